"""CKV_GDPR_7: bucket versioning is enabled, so an overwrite or delete can be undone."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import attr, blocks, guideline, has_no_instances, is_expanded, severity

ID = "CKV_GDPR_7"


class BucketVersioningEnabled(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure Safespring Storage buckets have versioning enabled",
            id=ID, categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["aws_s3_bucket_versioning"], guideline=guideline(ID))
        self.severity = severity("MEDIUM")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            self.details.append("count/for_each not expanded by Checkov: evidence unresolved")
            return CheckResult.FAILED
        for block in blocks(conf, "versioning_configuration"):
            if attr(block, "status") == "Enabled":
                return CheckResult.PASSED
        self.details.append("versioning_configuration.status is not \"Enabled\"")
        return CheckResult.FAILED


check = BucketVersioningEnabled()
