"""CKV_GDPR_10: every bucket expires its current objects after a stated retention.

A pass says when (after N days, on a date): the report holds it against the spec's retention.
"""

from __future__ import annotations

from typing import Any

from generator.evidence.check import ResourceCheck, Verdict, fail, passed
from generator.evidence.scope import Scope
from generator.evidence.values import as_int, attr, blocks


def _expires(rule: dict[str, Any]) -> str | None:
    """When an enabled rule expires current objects ("after N days", "on DATE"), else None."""
    if attr(rule, "status") != "Enabled":
        return None
    for expiration in blocks(rule, "expiration"):
        days = as_int(attr(expiration, "days"))
        if isinstance(days, int) and days >= 1:
            return f"current objects expire after {days} days"
        date = attr(expiration, "date")
        if isinstance(date, str):
            return f"current objects expire on {date}"
    return None


class BucketLifecycleExpires(ResourceCheck):
    ID = "CKV_GDPR_10"

    def judge(self, scope: Scope) -> Verdict:
        found = [when for when in map(_expires, blocks(scope.conf, "rule")) if when]
        if found:
            return passed(*found)
        return fail("no enabled rule with expiration days or date (storage limitation)")


check = BucketLifecycleExpires()
