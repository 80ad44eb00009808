"""The library behind the CLI: each user-facing action as one function."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from generator import blueprint
from generator.spec import Checked, Problem, check_file
from generator.write import MANIFEST, WriteResult, manifest, write


def today(option: str | None = None) -> dt.date:
    """The date rules compare against: `--today`, else SOURCE_DATE_EPOCH, else the clock (UTC).

    A fixed date makes validation (expiry windows) reproducible in tests and golden files.
    """
    if option:
        return dt.date.fromisoformat(option)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class Generated:
    checked: Checked
    target: Path
    result: WriteResult

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return self.checked.warnings


def files_for(spec_path: str | Path, on: dt.date) -> tuple[Checked, dict[str, bytes]]:
    """Validate the spec and render every blueprint file, manifest included (no disk writes)."""
    checked = check_file(spec_path, on)
    files = blueprint.render(checked.spec)
    files[MANIFEST] = manifest(files, Path(spec_path).name, checked.source)
    return checked, files


def generate(spec_path: str | Path, output: str | Path | None = None, *,
             on: dt.date | None = None, force: bool = False) -> Generated:
    """Validate, render and atomically write the blueprint for one spec."""
    checked, files = files_for(spec_path, on or today())
    target = Path(output) if output else Path.cwd() / checked.spec.name
    return Generated(checked=checked, target=target, result=write(target, files, force=force))
