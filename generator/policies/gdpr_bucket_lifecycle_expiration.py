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


def _expires(rule: dict[str, Any]) -> str | None:
    """When an enabled rule expires current objects ("after N days", "on DATE"), else None."""
    if attr(rule, "status") != "Enabled":
        return None
    for expiration in blocks(rule, "expiration"):
        days = as_int(attr(expiration, "days"))
        if isinstance(days, int) and days >= 1:
            return f"current objects expire after {days} days"
        date = attr(expiration, "date")
        if isinstance(date, str) and date is not MISSING:
            return f"current objects expire on {date}"
    return None


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
        found = [when for when in map(_expires, blocks(conf, "rule")) if when]
        if found:
            # Said on the pass too: the report holds it against the spec's retention.
            self.details.extend(found)
            return CheckResult.PASSED
        self.details.append("no enabled rule with expiration days or date (storage limitation)")
        return CheckResult.FAILED


check = BucketLifecycleExpires()
