"""The blueprint spec: load YAML with positions, validate (schema + rules), build the model."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from generator.spec import rules
from generator.spec.errors import Problem, SpecError
from generator.spec.load import LoadedSpec, load_file, load_text
from generator.spec.model import Spec, build
from generator.spec.schema import apply_defaults, validate

__all__ = ["Checked", "Problem", "Spec", "SpecError", "check_file", "check_text"]


@dataclass(frozen=True)
class Checked:
    """A spec that passed every check, with the warnings a reviewer should still see."""

    spec: Spec
    warnings: tuple[Problem, ...]
    file: str
    source: bytes


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
    return Checked(spec=build(data), warnings=tuple(rules.warnings(data, today, loaded.positions)),
                   file=loaded.file, source=source)
