"""CKV_GDPR_19: every bucket has a public access block (its four switches are CKV_GDPR_8's).

A graph check: a resource check on one aws_s3_bucket cannot see that a separate resource
is missing. It looks for an aws_s3_bucket_public_access_block
whose `bucket` names this bucket (evidence_graph.py: by name on the same provider, or by
reference, in both modes) and names the bucket that has none.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import guideline, severity
from generator.policies.evidence_graph import require_companion

ID = "CKV_GDPR_19"
COMPANION = "aws_s3_bucket_public_access_block"
WHAT = "nothing blocks public ACLs and public bucket policies"


class BucketHasPublicAccessBlock(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure every bucket has an aws_s3_bucket_public_access_block resource",
            id=ID, categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_s3_bucket"], guideline=guideline(ID))
        self.severity = severity("HIGH")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return require_companion(self, conf, COMPANION, WHAT)


check = BucketHasPublicAccessBlock()
