"""The blueprint spec: load YAML with positions, validate (schema + rules), build the model."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from generator.spec import rules
from generator.spec.errors import Problem, SpecError
from generator.spec.load import LoadedSpec, load_file, load_text
from generator.spec.measures import MeasureOff, measures_off
from generator.spec.model import Spec, build
from generator.spec.schema import apply_defaults, validate

__all__ = ["Checked", "MeasureOff", "Problem", "Spec", "SpecError", "check_file", "check_text"]


@dataclass(frozen=True)
class Checked:
    """A spec that passed every check, with the warnings a reviewer should still see and the
    measures it leaves off (the report counts those against their controls)."""

    spec: Spec
    warnings: tuple[Problem, ...]
    file: str
    source: bytes
    measures_off: tuple[MeasureOff, ...] = ()


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
    spec = build(data)
    off = measures_off(spec, loaded.positions)
    warnings = rules.warnings(data, today, loaded.positions)
    if spec.personal:
        # The missing review date is already one of rules.warnings().
        warnings += [m.problem() for m in off if m.control != "GDPR-REV-1"]
    ordered = tuple(sorted(warnings, key=lambda p: (p.line, p.column, p.message)))
    return Checked(spec=spec, warnings=ordered, file=loaded.file, source=source, measures_off=off)
