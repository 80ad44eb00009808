"""Scans shared by the report tests: each blueprint is scanned once per session (~1-3 s each)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.scan import ScanResult, scan
from tests.conftest import ROOT

BLUEPRINTS = ROOT / "blueprints"


def copy_blueprint(name: str, target: Path, *, with_spec: bool = True) -> Path:
    """A copy of a committed blueprint (and its spec next to it) to mutate freely."""
    directory = target / name
    shutil.copytree(BLUEPRINTS / name, directory, ignore=shutil.ignore_patterns(".terraform*"))
    if with_spec:
        shutil.copy(BLUEPRINTS / f"{name}.yaml", target / f"{name}.yaml")
    return directory


@pytest.fixture(scope="session")
def portal_scan() -> ScanResult:
    return scan(BLUEPRINTS / "patient-portal")


@pytest.fixture(scope="session")
def minimal_scan() -> ScanResult:
    return scan(BLUEPRINTS / "minimal")
