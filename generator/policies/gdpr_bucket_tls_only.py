"""CKV_GDPR_9: the bucket policy denies every request that does not arrive over TLS."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    Unresolved,
    guideline,
    has_no_instances,
    is_expanded,
    policy_statements,
    severity,
)

ID = "CKV_GDPR_9"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _denies_plain_transport(statement: dict[str, Any]) -> bool:
    if statement.get("Effect") != "Deny":
        return False
    principal = statement.get("Principal")
    if not (principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS")))):
        return False
    if not any(a in ("s3:*", "*") for a in _as_list(statement.get("Action"))):
        return False
    condition = statement.get("Condition") or {}
    secure = (condition.get("Bool") or {}).get("aws:SecureTransport") if isinstance(condition, dict) else None
    return str(secure).lower() == "false"


class BucketPolicyDeniesInsecureTransport(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure bucket policies deny all requests with aws:SecureTransport = false",
            id=ID, categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_s3_bucket_policy"], guideline=guideline(ID))
        self.severity = severity("HIGH")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            self.details.append("count/for_each not expanded by Checkov: evidence unresolved")
            return CheckResult.FAILED
        found = policy_statements(conf.get("policy"))
        if isinstance(found, Unresolved):
            self.details.append(f"policy statements are {found}")
            return CheckResult.FAILED
        if any(_denies_plain_transport(s) for s in found):
            return CheckResult.PASSED
        self.details.append("no statement denies s3:* to * when aws:SecureTransport is false")
        return CheckResult.FAILED


check = BucketPolicyDeniesInsecureTransport()
