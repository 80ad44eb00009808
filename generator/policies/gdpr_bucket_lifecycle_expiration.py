"""CKV_GDPR_10: every bucket expires its current objects after a stated retention."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    MISSING,
    as_int,
    attr,
    blocks,
    guideline,
    has_no_instances,
    is_expanded,
    severity,
)

ID = "CKV_GDPR_10"


def _expires(rule: dict[str, Any]) -> bool:
    if attr(rule, "status") != "Enabled":
        return False
    for expiration in blocks(rule, "expiration"):
        days = as_int(attr(expiration, "days"))
        if isinstance(days, int) and days >= 1:
            return True
        date = attr(expiration, "date")
        if isinstance(date, str) and date is not MISSING:
            return True
    return False


class BucketLifecycleExpires(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure bucket lifecycle configurations expire current objects after a set number of days",
            id=ID, categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_s3_bucket_lifecycle_configuration"], guideline=guideline(ID))
        self.severity = severity("MEDIUM")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            self.details.append("count/for_each not expanded by Checkov: evidence unresolved")
            return CheckResult.FAILED
        if any(_expires(rule) for rule in blocks(conf, "rule")):
            return CheckResult.PASSED
        self.details.append("no enabled rule with expiration days or date (storage limitation)")
        return CheckResult.FAILED


check = BucketLifecycleExpires()
