"""CKV_GDPR_22: a deployment that keeps personal data on volumes has a backup bucket.

Safespring does not back up customer data: without a backup of its own, a deleted or corrupted
volume is gone (Art. 32(1)(c)). A graph check on every volume holding personal data (no
classification evidence counts as personal): the same deployment (a plan; in HCL mode, the same
root module) must create a backup bucket (evidence_graph.is_backup_bucket), whose Object Lock
and site CKV_GDPR_13 and CKV_GDPR_14 judge. It cannot see that the guest's backup job copies
this volume there; that is tested on the cloud-init side.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    Scope,
    guideline,
    has_no_instances,
    holds_personal_data,
    severity,
)
from generator.policies.evidence_graph import backup_buckets

ID = "CKV_GDPR_22"


class PersonalVolumesHaveBackupBucket(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure a deployment that keeps personal data on volumes has a backup bucket",
            id=ID, categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["openstack_blockstorage_volume_v3"], guideline=guideline(ID))
        self.severity = severity("HIGH")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        scope = Scope(self, conf)
        if not holds_personal_data(scope.conf, "metadata"):
            return CheckResult.PASSED
        if backup_buckets(scope):
            return CheckResult.PASSED
        self.details.append("no backup bucket in this deployment (tag ssb_role = \"backup\", a "
                            "backup-bucket module, or \"backup\" in a bucket's name): Safespring "
                            "does not back up volumes, so this personal data has no copy to restore")
        return CheckResult.FAILED


check = PersonalVolumesHaveBackupBucket()
