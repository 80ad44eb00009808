"""The committed example blueprints are exactly what the generator makes from their specs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from generator import api
from tests.conftest import ROOT, TODAY, run_cli

EXAMPLES = sorted(p.stem for p in (ROOT / "blueprints").glob("*.yaml"))


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and ".terraform" not in p.parts}


DATE = re.compile(rb"\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b")


def test_every_shared_example_is_bundled() -> None:
    """The bundled examples are the shared ones; only their dates may differ: renewing the
    example's access dates is a routine of this repository (README, "Renewing the example's
    dates")."""
    shared = ROOT.parent / "shared" / "examples"
    if shared.is_dir():
        for spec in shared.glob("*.yaml"):
            bundled = (ROOT / "blueprints" / spec.name).read_bytes()
            assert DATE.sub(b"DATE", bundled) == DATE.sub(b"DATE", spec.read_bytes()), spec.name
    assert {"patient-portal", "minimal"} <= set(EXAMPLES)


def generate_beside(name: str, root: Path) -> Path:
    """Generate an example as the repository holds it: the spec next to its blueprint, so the
    manifest records the same spec path (`../<name>.yaml`)."""
    spec = root / f"{name}.yaml"
    shutil.copyfile(ROOT / "blueprints" / f"{name}.yaml", spec)
    api.generate(spec, root / name, on=TODAY)
    return root / name


@pytest.mark.parametrize("name", EXAMPLES)
def test_committed_blueprint_is_byte_identical_to_a_fresh_generation(name: str,
                                                                     tmp_path: Path) -> None:
    assert tree(generate_beside(name, tmp_path)) == tree(ROOT / "blueprints" / name)


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
    """The README's generate command, run as written in a checkout, produces the committed
    example blueprint. The date is pinned (TODAY), never the real clock: the example's access
    entries end on fixed dates, as access must, and renewing them is a routine (README,
    "Renewing the example's dates"), not a test that turns red on its own."""
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"\.venv/bin/safespring-blueprints (generate [^\n`]*)", readme)
    assert command, "the README's first command is gone"
    args = command.group(1).split()
    assert args == ["generate", "blueprints/patient-portal.yaml", "-o", "blueprints/patient-portal"]
    (tmp_path / "blueprints").mkdir()
    shutil.copyfile(ROOT / "blueprints" / "patient-portal.yaml",
                    tmp_path / "blueprints" / "patient-portal.yaml")
    run = run_cli(*args, cwd=tmp_path)
    assert run.code == 0, run.err
    assert tree(tmp_path / "blueprints" / "patient-portal") == tree(
        ROOT / "blueprints" / "patient-portal")


def test_the_readme_states_the_example_access_dates() -> None:
    """After a renewal (README, "Renewing the example's dates") the README says the new dates."""
    spec = (ROOT / "blueprints" / "patient-portal.yaml").read_text()
    ends = sorted(set(re.findall(r"^\s+expires: ([0-9-]+)$", spec, re.M)))
    said = re.search(r"its entries end on ([0-9-]+) and\s+([0-9-]+)\.", (ROOT / "README.md").read_text())
    assert said and list(said.groups()) == ends


def test_a_renewal_keeps_the_example_usable_for_most_of_a_year() -> None:
    """Renewing moves every date as far as the 366-day window allows: the first to end is at
    least 300 days after the pinned day, so the README's first command keeps working (and
    warning only in the last 30 days) for most of a year after each renewal."""
    import datetime as dt

    spec = (ROOT / "blueprints" / "patient-portal.yaml").read_text()
    ends = [dt.date.fromisoformat(d) for d in re.findall(r"^\s+expires: ([0-9-]+)$", spec, re.M)]
    assert ends and (min(ends) - TODAY).days >= 300, min(ends)
    assert (max(ends) - TODAY).days <= 366


def test_gitignore_keeps_state_credentials_and_keys_out_of_git(tmp_path: Path) -> None:
    """Asked of git itself: what the generated .gitignore keeps out, and what it lets in."""
    out = generate_beside("minimal", tmp_path)
    subprocess.run(["git", "init", "-q", str(out)], check=True)
    kept_out = ["terraform.tfstate", "terraform.tfstate.backup", "plan.tfplan", "clouds.yaml",
                "secure.yaml", "x.auto.tfvars", "terraform.tfvars", "terraform.tfvars.json",
                "x.auto.tfvars.json", "portal.pem", "tls/portal.key", ".terraform/x"]
    let_in = ["main.tf", "versions.tf", "README.md", "cloud-init/app.yaml", "clouds.yaml.example"]
    proc = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=out,
                          input="\n".join(kept_out + let_in) + "\n", capture_output=True,
                          text=True)
    assert proc.stdout.split() == kept_out
