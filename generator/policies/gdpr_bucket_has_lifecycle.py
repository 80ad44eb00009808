"""CKV_GDPR_21: every bucket has a lifecycle configuration (that it expires objects is CKV_GDPR_10's).

A graph check: a resource check on one aws_s3_bucket cannot see that a separate resource
is missing. It looks for an aws_s3_bucket_lifecycle_configuration
whose `bucket` names this bucket (evidence_graph.py: by name on the same provider, or by
reference, in both modes) and names the bucket that has none.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import guideline, severity
from generator.policies.evidence_graph import require_companion

ID = "CKV_GDPR_21"
COMPANION = "aws_s3_bucket_lifecycle_configuration"
WHAT = "its objects never expire (storage limitation)"


class BucketHasLifecycle(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every bucket has an aws_s3_bucket_lifecycle_configuration resource",
            id=ID, categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_s3_bucket"], guideline=guideline(ID))
        self.severity = severity("MEDIUM")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return require_companion(self, conf, COMPANION, WHAT)


check = BucketHasLifecycle()
