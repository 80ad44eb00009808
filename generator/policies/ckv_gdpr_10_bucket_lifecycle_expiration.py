"""CKV_GDPR_10: every bucket expires its current objects after a stated retention."""

from __future__ import annotations

from typing import Any

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail
from generator.evidence.scope import Scope
from generator.evidence.values import as_int, attr, blocks


def _expires(rule: dict[str, Any]) -> bool:
    if attr(rule, "status") != "Enabled":
        return False
    for expiration in blocks(rule, "expiration"):
        days = as_int(attr(expiration, "days"))
        if isinstance(days, int) and days >= 1:
            return True
        if isinstance(attr(expiration, "date"), str):
            return True
    return False


class BucketLifecycleExpires(ResourceCheck):
    ID = "CKV_GDPR_10"

    def judge(self, scope: Scope) -> Verdict:
        if any(_expires(rule) for rule in blocks(scope.conf, "rule")):
            return PASS
        return fail("no enabled rule with expiration days or date (storage limitation)")


check = BucketLifecycleExpires()
