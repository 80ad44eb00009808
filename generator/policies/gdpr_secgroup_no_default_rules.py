"""CKV_GDPR_6: security groups start empty, so egress is as explicit as ingress."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import as_bool, attr, guideline, has_no_instances, is_expanded, severity

ID = "CKV_GDPR_6"


class SecgroupDeletesDefaultRules(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure security groups are created with delete_default_rules = true",
            id=ID, categories=[CheckCategories.NETWORKING],
            supported_resources=["openstack_networking_secgroup_v2"], guideline=guideline(ID))
        self.severity = severity("MEDIUM")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            self.details.append("count/for_each not expanded by Checkov: evidence unresolved")
            return CheckResult.FAILED
        if as_bool(attr(conf, "delete_default_rules")) is True:
            return CheckResult.PASSED
        self.details.append("OpenStack's default allow-all egress rules are kept")
        return CheckResult.FAILED


check = SecgroupDeletesDefaultRules()
