"""CKV_GDPR_2: only HTTPS (tcp 443) may face the whole internet; every rule has a port range."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    MISSING,
    WORLD,
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


class SecgroupNoWorldIngressButHttps(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure security group rules open nothing but tcp 443 to the whole internet, "
                 "and always name a port range",
            id=ID, categories=[CheckCategories.NETWORKING],
            supported_resources=["openstack_networking_secgroup_rule_v2"], guideline=guideline(ID))
        self.severity = severity("CRITICAL")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            self.details.append("count/for_each not expanded by Checkov: rule unresolved")
            return CheckResult.FAILED
        direction = attr(conf, "direction")
        protocol = attr(conf, "protocol")
        low, high = as_int(attr(conf, "port_range_min")), as_int(attr(conf, "port_range_max"))
        # A rule without protocol or ports opens everything it can: never acceptable.
        if protocol is MISSING or low is None or high is None:
            self.details.append("rule without protocol or port range opens all ports")
            return CheckResult.FAILED
        if isinstance(direction, Unresolved) or direction is MISSING:
            self.details.append(f"direction is {direction if direction is not MISSING else 'missing'}")
            return CheckResult.FAILED
        if direction == "egress":
            return CheckResult.PASSED
        group = remote_group(conf)
        if isinstance(group, str) and group:
            # Neutron accepts only one of remote_group_id / remote_ip_prefix: a group rule
            # never faces the internet.
            return CheckResult.PASSED
        prefix = attr(conf, "remote_ip_prefix")
        if isinstance(prefix, Unresolved):
            self.details.append(f"remote_ip_prefix is {prefix}")
            return CheckResult.FAILED
        if prefix is MISSING or prefix == "" or prefix in WORLD:
            if any(isinstance(v, Unresolved) for v in (protocol, low, high)):
                self.details.append("world-open rule with unresolved protocol or ports")
                return CheckResult.FAILED
            if str(protocol).lower() == "tcp" and low == 443 and high == 443:
                return CheckResult.PASSED
            self.details.append(f"{protocol} {low}-{high} open to the whole internet (only tcp 443 may be)")
            return CheckResult.FAILED
        return CheckResult.PASSED


check = SecgroupNoWorldIngressButHttps()
