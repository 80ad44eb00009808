"""CKV_GDPR_2: only HTTPS (tcp 443) may face the whole internet; every rule has a port range."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    MISSING,
    WORLD,
    Scope,
    Unresolved,
    as_int,
    attr,
    guideline,
    has_no_instances,
    is_expanded,
    remote_group,
    severity,
)

ID = "CKV_GDPR_2"


def ports(low: Any, high: Any) -> str:
    """`port 22`, `ports 8000-8080`."""
    return f"port {low}" if low == high else f"ports {low}-{high}"


def remote_text(prefix: Any, group: Any) -> str:
    if isinstance(group, str) and group:
        return f"security group {group}"
    if prefix is MISSING or prefix == "":
        return "any address (no remote_ip_prefix, no remote_group_id)"
    return str(prefix)


class SecgroupNoWorldIngressButHttps(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure security group rules open nothing but tcp 443 to the whole internet, "
                 "and always name a port range",
            id=ID, categories=[CheckCategories.NETWORKING],
            supported_resources=["openstack_networking_secgroup_rule_v2"], guideline=guideline(ID))
        self.severity = severity("CRITICAL")

    def _fail(self, why: str) -> CheckResult:
        self.details.append(why)
        return CheckResult.FAILED

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            return self._fail("count/for_each not expanded by Checkov's HCL evaluation; scanning the "
                              "plan (scan DIR --plan) lets Terraform expand it")
        scope = Scope(self, conf)
        conf = scope.conf
        direction = attr(conf, "direction")
        protocol = attr(conf, "protocol")
        low, high = as_int(attr(conf, "port_range_min")), as_int(attr(conf, "port_range_max"))
        prefix = attr(conf, "remote_ip_prefix")
        group = remote_group(conf, scope)
        shown_direction = direction if isinstance(direction, str) else "ingress"
        for name, value in (("direction", direction), ("protocol", protocol),
                            ("port_range_min", low), ("port_range_max", high)):
            if isinstance(value, Unresolved):
                return self._fail(f"{name} is {value}")
        # A rule without protocol or ports opens everything it can: never acceptable.
        if protocol is MISSING or low is None or high is None:
            what = "protocol" if protocol is MISSING else "port range"
            every = "protocol and port" if protocol is MISSING else "port"
            towards = "to" if shown_direction == "egress" else "from"
            return self._fail(f"no {what}: {shown_direction} on every {every} {towards} "
                              f"{remote_text(prefix, group)}")
        if direction is MISSING:
            return self._fail("no direction")
        if direction == "egress":
            return CheckResult.PASSED
        if isinstance(group, str) and group:
            # Neutron accepts only one of remote_group_id / remote_ip_prefix: a group rule
            # never faces the internet.
            return CheckResult.PASSED
        if isinstance(prefix, Unresolved):
            return self._fail(f"remote_ip_prefix is {prefix}")
        if isinstance(group, Unresolved) and prefix is MISSING:
            return self._fail(f"remote_group_id is {group}")
        if prefix is MISSING or prefix == "" or prefix in WORLD:
            if str(protocol).lower() == "tcp" and low == 443 and high == 443:
                return CheckResult.PASSED
            return self._fail(f"{protocol} {ports(low, high)} open to {remote_text(prefix, group)}, the "
                              "whole internet: only tcp 443 may be")
        return CheckResult.PASSED


check = SecgroupNoWorldIngressButHttps()
