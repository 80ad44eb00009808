"""CKV_GDPR_3: every rule names its remote (Safespring: an empty remote_ip_prefix opened all ports)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    Scope,
    Unresolved,
    attr,
    guideline,
    has_no_instances,
    is_expanded,
    remote_group,
    severity,
)

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
            self.details.append("count/for_each not expanded by Checkov's HCL evaluation; scanning "
                                "the plan (scan DIR --plan) lets Terraform expand it")
            return CheckResult.FAILED
        scope = Scope(self, conf)
        prefix, group = attr(scope.conf, "remote_ip_prefix"), remote_group(scope.conf, scope)
        for value in (prefix, group):
            if isinstance(value, str) and value.strip():
                return CheckResult.PASSED
        unknown = [f"{name} is {value}" for name, value in (("remote_ip_prefix", prefix),
                                                              ("remote_group_id", group))
                   if isinstance(value, Unresolved)]
        self.details.append("; ".join(unknown) or "no remote: neither remote_ip_prefix nor "
                            "remote_group_id is set, so the rule faces every address")
        return CheckResult.FAILED


check = SecgroupRuleExplicitRemote()
