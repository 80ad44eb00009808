"""CKV_GDPR_8: a bucket blocks every form of public access (all four switches)."""

from __future__ import annotations

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail
from generator.evidence.scope import Scope
from generator.evidence.values import as_bool, attr

SWITCHES = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


class BucketBlocksPublicAccess(ResourceCheck):
    ID = "CKV_GDPR_8"

    def judge(self, scope: Scope) -> Verdict:
        off = [s for s in SWITCHES if as_bool(attr(scope.conf, s)) is not True]
        if off:
            return fail(f"not true: {', '.join(off)}")
        return PASS


check = BucketBlocksPublicAccess()
