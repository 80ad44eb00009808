"""CKV_GDPR_13: a backup bucket is write-once: Object Lock on, with a default retention.

Restic writes objects without a retention of its own, so only the bucket's default retention
locks them: `object_lock_enabled = true` on the bucket alone locks nothing. A graph check on
every bucket recognised as a backup bucket (generator/evidence/graph.py `is_backup_bucket`: tag
ssb_role = "backup", a module directory named backup-bucket, or "backup" in its name): it needs
Object Lock on the bucket and an aws_s3_bucket_object_lock_configuration tied to it with a
default retention.
"""

from __future__ import annotations

from typing import Any

from generator.evidence.check import NONE, NOT_EXPANDED, PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.graph import companions, is_backup_bucket, missing_message
from generator.evidence.scope import Scope
from generator.evidence.values import Unresolved, as_bool, as_int, attr, blocks

LOCK = "aws_s3_bucket_object_lock_configuration"
MODES = ("GOVERNANCE", "COMPLIANCE")


def _retention_problem(lock: dict[str, Any]) -> str | None:
    """None when the lock configuration has a usable default retention, else why not."""
    for rule in blocks(lock, "rule"):
        for retention in blocks(rule, "default_retention"):
            mode = attr(retention, "mode")
            days, years = as_int(attr(retention, "days")), as_int(attr(retention, "years"))
            if mode not in MODES:
                return f"default_retention.mode is {mode}, not GOVERNANCE or COMPLIANCE"
            if (isinstance(days, int) and days >= 1) or (isinstance(years, int) and years >= 1):
                return None
            return f"default_retention has no positive days or years (days {days}, years {years})"
    return "no rule.default_retention: the objects restic writes would not be locked"


class BackupBucketObjectLock(ResourceCheck):
    ID = "CKV_GDPR_13"
    NEEDS_EXPANSION = False  # whether it is a backup bucket does not depend on the instance

    def judge(self, scope: Scope) -> Verdict:
        if not is_backup_bucket(scope):
            return NONE
        if "count" in scope.raw or "for_each" in scope.raw:
            return unknown(NOT_EXPANDED)
        enabled = as_bool(attr(scope.conf, "object_lock_enabled"))
        if isinstance(enabled, Unresolved):
            return unknown(f"object_lock_enabled is {enabled}")
        if enabled is not True:
            shown = "not set" if enabled is None else enabled
            return fail(f"object_lock_enabled is {shown}: backups can be overwritten or deleted")
        found = companions(scope, LOCK)
        if not found.linked:
            return fail(missing_message(LOCK, found, "nothing is locked by default"))
        for lock in found.linked:
            why = _retention_problem(lock.conf)
            if why:
                return fail(f"{lock.address}: {why}")
        return PASS


check = BackupBucketObjectLock()
