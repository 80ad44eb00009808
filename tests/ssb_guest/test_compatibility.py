"""The guest programs run on every supported guest image's Python, the oldest being 3.10.

Ubuntu's archive cannot be reached from the test machines, so Ubuntu 22.04 (Python 3.10) is never
booted here; its interpreter is stood in for by two static checks: the grammar of 3.10
(`ast.parse(feature_version=...)`) and vermin, which knows which standard-library names appeared
in which release (it is what found `datetime.UTC`, new in 3.11, in ssb-backup).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import ssb_guest
from generator.platform import platform

OLDEST = (3, 10)
PROGRAMS = sorted({name for name, _ in ssb_guest.PROGRAMS.values() if name.endswith(".py")})
VERMIN = Path(sys.executable).parent / "vermin"


def _vermin(*paths: str) -> subprocess.CompletedProcess[str]:
    assert VERMIN.exists(), "vermin is not installed: pip install -e '.[test]'"
    return subprocess.run([str(VERMIN), f"--target={OLDEST[0]}.{OLDEST[1]}-", "--violations",
                           "--no-tips", "--no-parse-comments", *paths],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("name", PROGRAMS)
def test_grammar_of_the_oldest_python(name: str) -> None:
    ast.parse(ssb_guest.read(name), filename=name, feature_version=OLDEST)


def test_no_newer_standard_library() -> None:
    root = Path(ssb_guest.__file__).parent
    proc = _vermin(*(str(root / name) for name in PROGRAMS))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_vermin_catches_a_newer_name(tmp_path: Path) -> None:
    """The check above is not vacuous: 3.11's datetime.UTC fails it."""
    probe = tmp_path / "probe.py"
    probe.write_text("import datetime as dt\nprint(dt.datetime.now(dt.UTC))\n")
    proc = _vermin(str(probe))
    assert proc.returncode != 0 and "datetime.UTC" in proc.stdout, proc.stdout


def test_shell_programs_are_posix_sh() -> None:
    for name, _ in ssb_guest.PROGRAMS.values():
        if not name.endswith(".py"):
            assert ssb_guest.read(name).startswith("#!/bin/sh\n"), name


def test_every_guest_image_is_one_the_programs_are_written_for() -> None:
    """The images the generator accepts for guest configuration, and each one's Python: a new
    image in platform.yaml must be added here with its interpreter, and checked."""
    pythons = {"ubuntu-22.04": (3, 10), "ubuntu-24.04": (3, 12), "debian-12": (3, 11),
               "debian-13": (3, 13)}
    assert set(platform().guest_images) == set(pythons)
    assert min(pythons.values()) == OLDEST
