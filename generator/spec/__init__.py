"""The blueprint spec: load YAML with positions, validate (schema + rules), build the model."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from generator.spec import defaults, rules
from generator.spec.errors import Problem, SpecError
from generator.spec.load import LoadedSpec, load_file, load_text
from generator.spec.model import Spec, build
from generator.spec.schema import apply_defaults, validate
from generator.spec.weakenings import Weakening, weakenings

__all__ = ["Checked", "Problem", "Reading", "Spec", "SpecError", "Weakening", "check_file",
           "check_text", "read"]


@dataclass(frozen=True)
class Checked:
    """A spec that passed every check, with the warnings a reviewer should still see and the
    measures it leaves off (the report counts those against their controls)."""

    spec: Spec
    warnings: tuple[Problem, ...]
    file: str
    source: bytes
    weakenings: tuple[Weakening, ...] = ()


def check_text(text: str, file: str, today: dt.date) -> Checked:
    """Validate spec text completely (schema, then rules) and build the model, or raise SpecError."""
    loaded = load_text(text, file)
    return _check(loaded, today, text.encode("utf-8"))


def check_file(path: str | Path, today: dt.date) -> Checked:
    """Validate a spec file completely and build the model, or raise SpecError with every problem."""
    loaded = load_file(path)
    return _check(loaded, today, Path(path).read_bytes())


def _check(loaded: LoadedSpec, today: dt.date, source: bytes) -> Checked:
    problems = validate(loaded)
    data = apply_defaults(loaded.data)
    problems += rules.check(data, today, loaded.positions, schema_failed=bool(problems))
    if problems:
        raise SpecError(loaded.file, problems)
    spec = build(defaults.fit(data, loaded.positions))
    off = weakenings(spec, loaded.positions)
    warnings = rules.warnings(data, today, loaded.positions)
    if spec.personal:
        # The missing review date is already one of rules.warnings().
        warnings += [m.problem() for m in off if m.control != "GDPR-REV-1"]
    ordered = tuple(sorted(warnings, key=lambda p: (p.line, p.column, p.message)))
    return Checked(spec=spec, warnings=ordered, file=loaded.file, source=source, weakenings=off)


@dataclass(frozen=True)
class Reading:
    """A spec as a report reads it: the model even when today's rules reject the spec (an
    access entry has since expired), with its status, problems and weakenings."""

    spec: Spec | None
    status: str  # ok | invalid | unreadable
    problems: tuple[Problem, ...]
    weakenings: tuple[Weakening, ...]
    error: str | None = None  # why an unreadable spec could not be read


def read(path: str | Path, today: dt.date) -> Reading:
    """Read a spec for reporting on it. Rules compare dates with `today`, so a blueprint whose
    access has since expired no longer validates; the report still wants its facts (and to flag
    the expiry), so on a rule failure the model is built from the schema-valid data and the
    problems are returned with it. A spec the schema rejects yields no model: nothing is
    guessed."""
    try:
        checked = check_file(path, today)
        return Reading(checked.spec, "ok", (), checked.weakenings)
    except SpecError as err:
        problems = tuple(err.problems)
    except (OSError, ValueError) as err:
        return Reading(None, "unreadable", (), (), str(err))
    try:
        loaded = load_file(path)
        if validate(loaded):
            return Reading(None, "invalid", problems, ())
        model = build(defaults.fit(apply_defaults(loaded.data), loaded.positions))
        return Reading(model, "invalid", problems, weakenings(model, loaded.positions))
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, StopIteration):
        # a spec the model cannot hold: report its problems, do not guess its facts
        return Reading(None, "invalid", problems, ())
