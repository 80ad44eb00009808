"""The schema-only aws provider is a shortcut, so it must change nothing: every fixture and
blueprint the suite plans that uses aws resources is planned with it and with the real aws
provider 5.100.0 (the machine's mirror), and the two plans must give the same findings.

The plans themselves are compared too (every planned value and what is unknown), so a
difference shows even where no check reads it today.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.api import scan_plan_data
from generator.terraform import providers
from generator.terraform.workspace import Workspace
from tests.conftest import ROOT
from tests.policies.conftest import FIXTURES, OWN_ROOTS, PLAN_ROOT, STYLES, pinned_today

BLUEPRINT_INPUTS = {"key_pair": "offline-test"}
ROOTS: dict[str, tuple[Path, dict[str, str]]] = {
    "patient-portal": (ROOT / "blueprints" / "patient-portal", BLUEPRINT_INPUTS),
    "patient-portal/bootstrap": (ROOT / "blueprints" / "patient-portal" / "bootstrap", {}),
    "minimal": (ROOT / "blueprints" / "minimal", BLUEPRINT_INPUTS),
    "minimal/bootstrap": (ROOT / "blueprints" / "minimal" / "bootstrap", {}),
    "earlier patient-portal": (ROOT / "tests" / "fixtures" / "earlier" / "patient-portal-de643fd",
                               BLUEPRINT_INPUTS),
    "mixed_aws_openstack": (ROOT / "tests" / "terraform" / "fixtures" / "mixed_aws_openstack", {}),
    "policies plan root": (PLAN_ROOT, {}),
    "policies styles": (STYLES, {}),
    **{f"policies {name}": (FIXTURES / name, variables) for name, variables in OWN_ROOTS.items()},
}
# Roots the shortcut must decline, and why (then both plans use the real provider).
DECLINED = {"policies styles": "aws data sources"}


def _uses_aws(directory: Path) -> bool:
    from generator.terraform.run import local_module_dirs

    used = providers.usage([directory, *local_module_dirs(directory)])
    return any(t.startswith("aws_") for t in used.resources | used.data_sources)


AWS_ROOTS = {name: root for name, root in ROOTS.items() if _uses_aws(root[0])}


def _plan(directory: Path, inputs: dict[str, str]) -> tuple[dict, str, dict[str, str], str | None]:
    """The plan as data ({} when it failed), Terraform's errors, what was served and why not aws."""
    with Workspace(directory, offline=True) as ws:
        init = ws.init()
        assert init.ok, init.output[-3000:]
        steps, data = ws.plan(inputs=inputs)
        errors = "\n".join(line for s in steps if not s.ok for line in s.output.splitlines()
                           if line.startswith("Error: "))
        return data, errors, dict(ws.served), ws.real_aws_reason


def _findings(data: dict, directory: Path) -> list[tuple]:
    with pinned_today():
        result = scan_plan_data(data, directory)
    return sorted((f.check_id, f.resource, f.status, f.details, f.file, f.line, f.skip_reason)
                  for f in result.findings)


def _planned(values: dict) -> dict[str, str]:
    """Every planned resource, module by module, by address (as sorted JSON, to compare)."""
    out: dict[str, str] = {}
    todo = [values.get("root_module", {})]
    while todo:
        module = todo.pop()
        out.update({r["address"]: json.dumps(r, sort_keys=True) for r in module.get("resources", [])})
        todo.extend(module.get("child_modules", []))
    return out


def _changes(data: dict) -> dict[str, dict]:
    return {c["address"]: c["change"] for c in data.get("resource_changes", [])}


def test_the_differential_covers_every_aws_root() -> None:
    assert {"patient-portal", "minimal/bootstrap", "policies plan root", "policies styles"} <= set(AWS_ROOTS)


@pytest.mark.parametrize("name", sorted(AWS_ROOTS))
def test_schema_only_aws_plans_as_the_real_provider(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    directory, inputs = AWS_ROOTS[name]
    fast, fast_errors, served, reason = _plan(directory, inputs)
    if name in DECLINED:
        assert reason is not None and reason.startswith(DECLINED[name]), reason
        assert providers.AWS not in served
        return
    assert reason is None and served.get(providers.AWS) == "schema", reason
    monkeypatch.setenv(providers.REAL_AWS_ENV, "1")
    real, real_errors, served_real, reason_real = _plan(directory, inputs)
    assert providers.AWS not in served_real and reason_real
    # A root the real provider refuses to plan (mixed_aws_openstack configures no region) is
    # refused by the shortcut with the same error.
    assert fast_errors == real_errors
    if real_errors:
        assert not fast and not real
        return
    assert _findings(fast, directory) == _findings(real, directory)
    fast_changes, real_changes = _changes(fast), _changes(real)
    assert fast_changes.keys() == real_changes.keys()
    for address, change in real_changes.items():
        assert json.dumps(fast_changes[address], sort_keys=True) == json.dumps(change, sort_keys=True), \
            address
    # Terraform lists child modules in no fixed order: compare the planned resources by address.
    assert _planned(fast["planned_values"]) == _planned(real["planned_values"])
    assert fast["planned_values"].get("outputs") == real["planned_values"].get("outputs")
