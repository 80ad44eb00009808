"""CKV_GDPR_7: bucket versioning is enabled, so an overwrite or delete can be undone."""

from __future__ import annotations

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail
from generator.evidence.scope import Scope
from generator.evidence.values import attr, blocks


class BucketVersioningEnabled(ResourceCheck):
    ID = "CKV_GDPR_7"

    def judge(self, scope: Scope) -> Verdict:
        for block in blocks(scope.conf, "versioning_configuration"):
            if attr(block, "status") == "Enabled":
                return PASS
        return fail("versioning_configuration.status is not \"Enabled\"")


check = BucketVersioningEnabled()
