"""Everything we emit passes real Terraform offline: committed blueprints and every module.

Terraform runs against the aws provider from the machine's mirror and the OpenStack provider
3.0.0 *schema* served by the project's schema-only provider (the real OpenStack provider
cannot be downloaded here; its value validators are therefore not exercised). Each plan is
compared with a small expected inventory in tests/fixtures/inventories/.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from generator import api
from tests import inventory
from tests.conftest import ROOT, TODAY, run_cli

INVENTORIES = ROOT / "tests" / "fixtures" / "inventories"
BLUEPRINTS = sorted(p.parent.name for p in (ROOT / "blueprints").glob("*/main.tf"))
BOOTSTRAPS = sorted(p.parent.parent.name for p in (ROOT / "blueprints").glob("*/bootstrap/main.tf"))
EXAMPLES = sorted(p.parent.parent.parent.name for p in (ROOT / "modules").glob("*/examples/basic/main.tf"))
VARIABLES = {"key_pair": "offline-test"}


def _recorder() -> tuple[list[str], api.Progress]:
    """Progress events as `start NAME` / `end NAME ok`, in the order they were told."""
    events: list[str] = []

    def progress(name: str, step: object) -> None:
        events.append(f"start {name}" if step is None else f"end {name} {step.ok}")

    return events, progress


def _plan_matches(planned: Callable[..., dict], directory: Path, name: str) -> None:
    # The session's plan cache: the plan-mode scan tests plan the same blueprints.
    plan = planned(directory, VARIABLES)
    problems = inventory.check(plan, INVENTORIES / f"{name}.yaml")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_blueprint_validates_offline(name: str) -> None:
    events, progress = _recorder()
    checks = api.validate(ROOT / "blueprints" / name, offline=True, progress=progress)
    assert checks.ok, "\n".join(d.format() for s in checks.steps for d in s.diagnostics)
    assert [s.name for s in checks.steps] == ["fmt", "init", "validate"]
    assert events == [f"{when} {step}{' True' if when == 'end' else ''}"
                      for step in ("offline toolchain", "fmt", "init", "validate")
                      for when in ("start", "end")]


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_blueprint_plan_matches_its_inventory(planned: Callable[..., dict], name: str) -> None:
    _plan_matches(planned, ROOT / "blueprints" / name, f"blueprint-{name}")


@pytest.mark.parametrize("name", BOOTSTRAPS)
def test_state_bootstrap_plans(planned: Callable[..., dict], name: str) -> None:
    _plan_matches(planned, ROOT / "blueprints" / name / "bootstrap", f"bootstrap-{name}")


@pytest.mark.parametrize("module", EXAMPLES)
def test_module_example_validates_and_plans(planned: Callable[..., dict], module: str) -> None:
    example = ROOT / "modules" / module / "examples" / "basic"
    checks = api.validate(example, offline=True)
    assert checks.ok, "\n".join(d.format() for s in checks.steps for d in s.diagnostics)
    _plan_matches(planned, example, f"module-{module}")


def test_nothing_offline_lands_in_the_users_directory() -> None:
    directory = ROOT / "blueprints" / "minimal"
    assert api.validate(directory, offline=True).ok
    assert not (directory / ".terraform").exists()
    assert not (directory / ".terraform.lock.hcl").exists()


def test_a_misspelt_argument_is_reported_with_file_line_and_suggestion(tmp_path: Path) -> None:
    """The issue's own example: `flavour_name` typed into a module of a blueprint."""
    copy = tmp_path / "patient-portal"
    shutil.copytree(ROOT / "blueprints" / "patient-portal", copy)
    module = copy / "modules" / "instance-group" / "main.tf"
    text = module.read_text()
    line = text[: text.index("  flavor_name")].count("\n") + 1
    module.write_text(text.replace("  flavor_name ", "  flavour_name", 1))
    run = run_cli("validate", str(copy), "--offline")
    assert run.code == 1
    assert f"{copy}/modules/instance-group/main.tf:{line}:3: error: Unsupported argument" in run.err
    assert 'Did you mean "flavor_name"?' in run.err


def test_validate_reports_unformatted_files(tmp_path: Path) -> None:
    copy = tmp_path / "minimal"
    shutil.copytree(ROOT / "blueprints" / "minimal", copy)
    (copy / "extra.tf").write_text('locals {\na="x"\n}\n')
    run = run_cli("validate", str(copy), "--offline")
    assert run.code == 1
    assert f"{copy}/extra.tf:1:1: error: not in canonical format" in run.err


def test_free_text_reaches_terraform_as_the_same_literal(tmp_path: Path) -> None:
    """A hostile description renders as that literal text: Terraform itself reads it back."""
    import subprocess

    from generator.terraform import offline
    from generator.terraform import run as tf

    hostile = 'x"${file("/etc/passwd")}%{ for }\n} \\ å'
    spec = tmp_path / "hostile.yaml"
    text = (ROOT / "tests" / "fixtures" / "specs" / "valid.yaml").read_text()
    spec.write_text(text.replace("description: Booking service for the clinic",
                                 "description: " + json.dumps(hostile)))
    out = tmp_path / "bp"
    api.generate(spec, out, on=TODAY)
    env = tf.base_env(offline.prepare().env)
    with tf.scratch_copy(out) as copy:
        assert tf.init(copy, env).ok  # the scratch copy's backend is local
        proc = subprocess.run(["terraform", f"-chdir={copy}", "console", "-no-color"],
                              input="jsonencode(local.deployment.description)\n", env=env,
                              capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(json.loads(proc.stdout.strip())) == hostile
