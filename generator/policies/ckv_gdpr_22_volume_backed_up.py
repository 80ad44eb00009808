"""CKV_GDPR_22: a deployment that keeps personal data on volumes has a backup bucket.

Safespring does not back up customer data: without a backup of its own, a deleted or corrupted
volume is gone (Art. 32(1)(c)). A graph check on every volume holding personal data (no
classification evidence counts as personal): the same deployment (a plan; in HCL mode, the same
root module) must create a backup bucket (generator/evidence/graph.py `is_backup_bucket`), whose
Object Lock and site CKV_GDPR_13 and CKV_GDPR_14 judge, or a Swift container by the same
evidence (a name with "backup", metadata ssb_role = "backup"). It cannot see that the guest's backup
job copies this volume there; that is tested on the cloud-init side.
"""

from __future__ import annotations

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail
from generator.evidence.graph import backup_buckets
from generator.evidence.scope import Scope
from generator.evidence.values import holds_personal_data


class PersonalVolumesHaveBackupBucket(ResourceCheck):
    ID = "CKV_GDPR_22"
    NEEDS_EXPANSION = False  # a deployment's backup bucket serves every instance alike

    def judge(self, scope: Scope) -> Verdict:
        if not holds_personal_data(scope.conf, "metadata") or backup_buckets(scope):
            return PASS
        return fail("no backup bucket in this deployment (tag ssb_role = \"backup\", a backup-bucket "
                    "module, or \"backup\" in the name of a bucket or Swift container): Safespring "
                    "does not back up volumes, so this personal data has no copy to restore")


check = PersonalVolumesHaveBackupBucket()
