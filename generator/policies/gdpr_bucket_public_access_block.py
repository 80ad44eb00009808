"""CKV_GDPR_8: a bucket blocks every form of public access (all four switches)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import as_bool, attr, guideline, has_no_instances, is_expanded, severity

ID = "CKV_GDPR_8"
SWITCHES = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


class BucketBlocksPublicAccess(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure the public access block of Safespring Storage buckets sets all four "
                 "switches to true",
            id=ID, categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_s3_bucket_public_access_block"], guideline=guideline(ID))
        self.severity = severity("HIGH")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            self.details.append("count/for_each not expanded by Checkov: evidence unresolved")
            return CheckResult.FAILED
        off = [s for s in SWITCHES if as_bool(attr(conf, s)) is not True]
        if off:
            self.details.append(f"not true: {', '.join(off)}")
            return CheckResult.FAILED
        return CheckResult.PASSED


check = BucketBlocksPublicAccess()
