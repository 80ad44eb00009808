"""The pack on Terraform written the way people write it for Safespring, in both modes.

tests/policies/styles/ is one root module (one init, one plan) with a violation and a compliant
neighbour per style; expect.yaml says what each must give. Plan mode must name every problem and
pass every neighbour; HCL mode must do the same except where Checkov's HCL evaluation cannot
know a value (listed in expect.yaml), and there it must say UNKNOWN and what resolves it.
"""

from __future__ import annotations

import pytest
import yaml

from generator.scan import ScanResult

from .conftest import MODES, STYLES

EXPECT = yaml.safe_load((STYLES / "expect.yaml").read_text("utf-8"))
PLAN_HINT = "scan DIR --plan"


def _findings(result: ScanResult, check_id: str, resource: str) -> list:
    return [f for f in result.findings if f.check_id == check_id and f.resource == resource]


def _unresolved(mode: str) -> set[tuple[str, str]]:
    return {(u["check"], u["resource"]) for u in EXPECT["hcl_unresolved"]} if mode == "hcl" else set()


def test_every_style_has_a_violation_and_a_compliant_neighbour() -> None:
    styles = {v["style"] for v in EXPECT["violations"]}
    assert styles == {c["style"] for c in EXPECT["compliant"]}
    assert len(styles) == 7


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("violation", EXPECT["violations"], ids=lambda v: f"{v['check']}-{v['resource']}")
def test_violation_is_caught_naming_the_problem(style_scans: dict[str, ScanResult], mode: str,
                                                violation: dict) -> None:
    found = _findings(style_scans[mode], violation["check"], violation["resource"])
    assert [f.status for f in found] == ["failed"], found
    assert violation["says"] in "; ".join(found[0].details), found[0].details


@pytest.mark.parametrize("mode", MODES)
def test_compliant_neighbours_pass_every_check(style_scans: dict[str, ScanResult], mode: str) -> None:
    neighbours = {r for c in EXPECT["compliant"] for r in c["resources"]}
    result = style_scans[mode]
    seen = {f.resource for f in result.findings if f.custom}
    assert neighbours <= seen
    wrong = [f"{f.check_id} {f.resource}: {'; '.join(f.details)}" for f in result.findings
             if f.custom and f.resource in neighbours and f.status in ("failed", "unknown")
             and (f.check_id, f.resource) not in _unresolved(mode)]
    assert wrong == []


@pytest.mark.parametrize("mode", MODES)
def test_nothing_else_fails_or_is_unknown(style_scans: dict[str, ScanResult], mode: str) -> None:
    failed = {(f.check_id, f.resource) for f in style_scans[mode].failed if f.custom}
    unknown = {(f.check_id, f.resource) for f in style_scans[mode].unknown}
    assert failed == {(v["check"], v["resource"]) for v in EXPECT["violations"]}
    assert unknown == _unresolved(mode)


def test_what_hcl_mode_cannot_know_is_unknown_and_says_what_resolves_it(
        style_scans: dict[str, ScanResult]) -> None:
    for check_id, resource in _unresolved("hcl"):
        found = _findings(style_scans["hcl"], check_id, resource)
        assert [f.status for f in found] == ["unknown"]
        assert PLAN_HINT in "; ".join(found[0].details)


def test_plan_mode_never_falls_back_on_hcl_guesses(style_scans: dict[str, ScanResult]) -> None:
    said = ["; ".join(f.details) for f in style_scans["plan"].findings if f.custom]
    assert not [d for d in said if "Checkov's HCL evaluation" in d]


def test_plan_findings_point_at_the_tf_source(style_scans: dict[str, ScanResult]) -> None:
    ssh = _findings(style_scans["plan"], "CKV_GDPR_2",
                    'module.edge.openstack_networking_secgroup_rule_v2.rules["ssh_world"]')[0]
    assert (ssh.file, ssh.line) == ("modules/secgroup/main.tf", 29)
    hcl = _findings(style_scans["hcl"], "CKV_GDPR_2", ssh.resource)[0]
    assert (hcl.file, hcl.line) == (ssh.file, ssh.line)
