"""The committed example blueprints are exactly what the generator makes from their specs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from generator import api
from tests.conftest import ROOT, TODAY, run_cli

EXAMPLES = sorted(p.stem for p in (ROOT / "blueprints").glob("*.yaml"))


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and ".terraform" not in p.parts}


def test_every_shared_example_is_bundled() -> None:
    shared = ROOT.parent / "shared" / "examples"
    if shared.is_dir():
        for spec in shared.glob("*.yaml"):
            assert (ROOT / "blueprints" / spec.name).read_bytes() == spec.read_bytes()
    assert {"patient-portal", "minimal"} <= set(EXAMPLES)


@pytest.mark.parametrize("name", EXAMPLES)
def test_committed_blueprint_is_byte_identical_to_a_fresh_generation(name: str,
                                                                     tmp_path: Path) -> None:
    api.generate(ROOT / "blueprints" / f"{name}.yaml", tmp_path / name, on=TODAY)
    assert tree(tmp_path / name) == tree(ROOT / "blueprints" / name)


@pytest.mark.parametrize("name", EXAMPLES)
def test_generating_twice_gives_identical_bytes(name: str, tmp_path: Path) -> None:
    spec = ROOT / "blueprints" / f"{name}.yaml"
    api.generate(spec, tmp_path / "a", on=TODAY)
    api.generate(spec, tmp_path / "b", on=TODAY)
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    again = api.generate(spec, tmp_path / "a", on=TODAY)
    assert again.result.written == ()


def test_blueprints_and_modules_are_terraform_fmt_clean(terraform_env: dict) -> None:
    proc = subprocess.run(["terraform", "fmt", "-check", "-recursive", "-diff",
                           str(ROOT / "blueprints"), str(ROOT / "modules")],
                          env=terraform_env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readme_first_command_output(tmp_path: Path) -> None:
    """The README's generate command, as a user runs it today (the real clock, not the pinned
    test date), produces the example blueprint. The example's access entries end on fixed
    dates, as access must (the first on 2027-01-31, the command warns 30 days before): when
    this fails because one has passed, the README's first command fails for users too; renew
    the dates in the shared example and `blueprints/patient-portal.yaml` and regenerate."""
    out = tmp_path / "patient-portal"
    run = run_cli("generate", "blueprints/patient-portal.yaml", "-o", str(out),
                  env={"SOURCE_DATE_EPOCH": None})
    assert run.code == 0, run.err
    assert tree(out) == tree(ROOT / "blueprints" / "patient-portal")
