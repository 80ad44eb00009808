"""CKV_GDPR_3: every rule names its remote (Safespring: an empty remote_ip_prefix opened all ports)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import attr, guideline, has_no_instances, is_expanded, remote_group, severity

ID = "CKV_GDPR_3"


class SecgroupRuleExplicitRemote(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every security group rule sets a non-empty remote_ip_prefix or remote_group_id",
            id=ID, categories=[CheckCategories.NETWORKING],
            supported_resources=["openstack_networking_secgroup_rule_v2"], guideline=guideline(ID))
        self.severity = severity("HIGH")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            self.details.append("count/for_each not expanded by Checkov: rule unresolved")
            return CheckResult.FAILED
        for value in (attr(conf, "remote_ip_prefix"), remote_group(conf)):
            if isinstance(value, str) and value.strip():
                return CheckResult.PASSED
        self.details.append("neither remote_ip_prefix nor remote_group_id resolves to a non-empty value")
        return CheckResult.FAILED


check = SecgroupRuleExplicitRemote()
