"""Resources provider 3.0 dropped and older code still uses (openstack_compute_secgroup_v2 with
inline rules, openstack_blockstorage_volume_v2), judged in both modes.

Offline planning serves the provider 3.0 schema, which has neither type, so plan mode reads a
plan written here the way Terraform shows a provider 2.x plan (`terraform show -json`: planned
values, resource changes, configuration), next to the .tf files it would be made from."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from generator.scan import ScanResult, scan, scan_plan

from .conftest import HERE, pinned_today

LEGACY = HERE / "legacy"
PROVIDER = "registry.terraform.io/terraform-provider-openstack/openstack"


def _rule(low: int, high: int, protocol: str, cidr: str = "", self: bool = False) -> dict[str, Any]:
    return {"from_port": low, "to_port": high, "ip_protocol": protocol, "cidr": cidr,
            "from_group_id": "", "self": self}


RESOURCES: dict[str, tuple[str, dict[str, Any]]] = {
    "pass": ("openstack_compute_secgroup_v2", {
        "name": "pass", "description": "https, ping and the members",
        "rule": [_rule(443, 443, "tcp", "0.0.0.0/0"), _rule(-1, -1, "icmp", "0.0.0.0/0"),
                 _rule(1, 65535, "tcp", self=True)]}),
    "fail_postgres_world": ("openstack_compute_secgroup_v2", {
        "name": "fail-postgres-world", "description": "postgres to the world",
        "rule": [_rule(5432, 5432, "tcp", "0.0.0.0/0")]}),
    "fail_no_remote": ("openstack_compute_secgroup_v2", {
        "name": "fail-no-remote", "description": "a rule with no remote",
        "rule": [_rule(22, 22, "tcp")]}),
    "pass_not_personal": ("openstack_blockstorage_volume_v2", {
        "size": 10, "metadata": {"ssb_classification": "non-personal"}}),
    "fail_personal": ("openstack_blockstorage_volume_v2", {
        "size": 10, "metadata": {"ssb_classification": "personal"}}),
}


def legacy_plan() -> dict[str, Any]:
    """The plan of tests/policies/legacy as Terraform shows it with provider 2.x."""
    resources, changes, configured = [], [], []
    for name, (rtype, values) in RESOURCES.items():
        address = f"{rtype}.{name}"
        base = {"address": address, "mode": "managed", "type": rtype, "name": name}
        resources.append({**base, "provider_name": PROVIDER, "schema_version": 0, "values": values,
                          "sensitive_values": {}})
        changes.append({**base, "provider_name": PROVIDER, "change": {
            "actions": ["create"], "before": None, "after": values,
            "after_unknown": {"id": True, "region": True}}})
        configured.append({**base, "provider_config_key": "openstack", "schema_version": 0,
                           "expressions": {k: {"constant_value": v} for k, v in values.items()
                                           if not isinstance(v, list)}})
    return {"format_version": "1.2", "terraform_version": "1.11.4",
            "planned_values": {"root_module": {"resources": resources}},
            "resource_changes": changes,
            "configuration": {"provider_config": {"openstack": {
                "name": "openstack", "full_name": PROVIDER, "version_constraint": "~> 2.1",
                "expressions": {"cloud": {"constant_value": "safespring-sto1"}}}},
                "root_module": {"resources": configured}}}


@pytest.fixture(scope="module")
def legacy_scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ScanResult]:
    plan = tmp_path_factory.mktemp("legacy") / "plan.json"
    plan.write_text(json.dumps(legacy_plan()), "utf-8")
    with pinned_today():
        return {"hcl": scan(LEGACY), "plan": scan_plan(plan, source=LEGACY)}


EXPECTED = {
    ("CKV_GDPR_2", "pass"): "passed", ("CKV_GDPR_3", "pass"): "passed",
    ("CKV_GDPR_2", "fail_postgres_world"): "failed", ("CKV_GDPR_3", "fail_postgres_world"): "passed",
    ("CKV_GDPR_2", "fail_no_remote"): "failed", ("CKV_GDPR_3", "fail_no_remote"): "failed",
    ("CKV_GDPR_1", "pass_not_personal"): "passed", ("CKV_GDPR_22", "pass_not_personal"): "passed",
    ("CKV_GDPR_1", "fail_personal"): "failed", ("CKV_GDPR_22", "fail_personal"): "failed",
}


@pytest.mark.parametrize("mode", ["hcl", "plan"])
def test_legacy_resources_are_judged_like_their_successors(legacy_scans: dict[str, ScanResult],
                                                           mode: str) -> None:
    found = {(f.check_id, f.resource.rsplit(".", 1)[1]): f for f in legacy_scans[mode].findings
             if f.check_id in {c for c, _ in EXPECTED}}
    assert {k: f.status for k, f in found.items() if k in EXPECTED} == EXPECTED
    world = found[("CKV_GDPR_2", "fail_postgres_world")]
    assert "tcp port 5432 open to 0.0.0.0/0" in "; ".join(world.details)
    # Findings point at the .tf block in both modes.
    assert (world.file, world.line) == ("main.tf", 25)


def test_the_written_plan_is_what_checkov_reads(legacy_scans: dict[str, ScanResult]) -> None:
    assert legacy_scans["plan"].mode == "plan"
    assert {f.resource for f in legacy_scans["plan"].findings if f.custom} >= {
        f"{rtype}.{name}" for name, (rtype, _) in RESOURCES.items()}


def test_the_fixture_and_the_written_plan_agree() -> None:
    text = (LEGACY / "main.tf").read_text("utf-8")
    written = set(re.findall(r'^resource "([a-z0-9_]+)" "([a-z0-9_]+)"', text, re.M))
    assert written == {(rtype, name) for name, (rtype, _) in RESOURCES.items()}
