"""Terraform's plan as the checks read it: addresses, references followed up through module
calls, and provider configurations, on a small plan document written here."""

from __future__ import annotations

import pytest

from generator.evidence.plan import Plan, format_key, module_address, split_address
from generator.evidence.values import MISSING, Unresolved


@pytest.mark.parametrize("address", [
    "openstack_compute_instance_v2.web",
    'module.db["primary"].module.volume.openstack_blockstorage_volume_v3.this[0]',
    'module.a[2].data.openstack_images_image_v2.img["x.y"]',
])
def test_addresses_split_and_join(address: str) -> None:
    modules, rtype, name, key, mode = split_address(address)
    prefix = module_address(modules)
    data = "data." if mode == "data" else ""
    again = (f"{prefix}." if prefix else "") + f"{data}{rtype}.{name}{format_key(key)}"
    assert again == address


def _doc() -> dict:
    """A root calling module `rules` twice (for_each) with a group id, the group in the root."""
    rule = {"address": "", "mode": "managed", "type": "openstack_networking_secgroup_rule_v2",
            "name": "this", "values": {"direction": "ingress"}}
    return {
        "planned_values": {"root_module": {
            "resources": [{"address": "openstack_networking_secgroup_v2.web", "mode": "managed",
                           "type": "openstack_networking_secgroup_v2", "name": "web",
                           "values": {"name": "web"}}],
            "child_modules": [
                {"address": f'module.rules["{k}"]', "resources": [
                    {**rule, "address": f'module.rules["{k}"].openstack_networking_secgroup_rule_v2.this'}]}
                for k in ("a", "b")]}},
        "resource_changes": [
            {"address": f'module.rules["{k}"].openstack_networking_secgroup_rule_v2.this',
             "change": {"after_unknown": {"remote_group_id": True}}} for k in ("a", "b")],
        "configuration": {
            "provider_config": {
                "openstack": {"name": "openstack", "expressions": {"cloud": {"constant_value": "x"}}},
                "aws": {"name": "aws"},
                "aws.backup": {"name": "aws", "alias": "backup", "expressions": {
                    "endpoints": [{"s3": {"references": ["var.endpoint"]}}]}}},
            "root_module": {
                "resources": [{"address": "openstack_networking_secgroup_v2.web", "mode": "managed",
                               "type": "openstack_networking_secgroup_v2", "name": "web",
                               "provider_config_key": "openstack", "expressions": {}}],
                "module_calls": {"rules": {
                    "source": "./rules",
                    "for_each_expression": {"references": ["var.rules"]},
                    "expressions": {"group": {"references": [
                        "openstack_networking_secgroup_v2.web.id", "openstack_networking_secgroup_v2.web"]}},
                    "module": {"resources": [{
                        "address": "openstack_networking_secgroup_rule_v2.this", "mode": "managed",
                        "type": "openstack_networking_secgroup_rule_v2", "name": "this",
                        "provider_config_key": "rules:openstack",
                        "expressions": {"remote_group_id": {"references": ["var.group"]}}}]}}}}},
    }


def test_a_reference_is_followed_up_through_the_module_call() -> None:
    plan = Plan(_doc(), "plan.json")
    rule = plan.get('module.rules["b"].openstack_networking_secgroup_rule_v2.this')
    assert rule is not None and rule.is_unknown("remote_group_id")
    refs = plan.references(rule, "remote_group_id")
    assert refs == ["var.group"]
    found = plan.targets(rule, refs, rtype="openstack_networking_secgroup_v2")
    assert [t.address for t in found] == ["openstack_networking_secgroup_v2.web"]


def test_provider_configurations_and_their_users() -> None:
    plan = Plan(_doc(), "plan.json")
    assert plan.used_provider_keys() == {"openstack", "rules:openstack"}
    assert plan.provider_value("openstack", "cloud") == "x"
    assert plan.provider_value("aws", "region") is MISSING
    unresolved = plan.provider_value("aws.backup", "endpoints", 0, "s3")
    assert isinstance(unresolved, Unresolved) and "var.endpoint" in str(unresolved)
