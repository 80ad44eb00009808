"""CKV_GDPR_13: a backup bucket is write-once: Object Lock on, with a default retention.

Restic writes objects without a retention of its own, so only the bucket's default retention
locks them: `object_lock_enabled = true` on the bucket alone locks nothing. A graph check on
every bucket recognised as a backup bucket (evidence_graph.is_backup_bucket: tag ssb_role =
"backup", a module directory named backup-bucket, or "backup" in its name): it needs Object Lock
on the bucket and an aws_s3_bucket_object_lock_configuration tied to it with a default retention.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    Scope,
    as_bool,
    as_int,
    attr,
    blocks,
    guideline,
    has_no_instances,
    is_expanded,
    severity,
)
from generator.policies.evidence_graph import companions, is_backup_bucket, missing_message

ID = "CKV_GDPR_13"
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


class BackupBucketObjectLock(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure backup buckets have Object Lock enabled with a default retention",
            id=ID, categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["aws_s3_bucket"], guideline=guideline(ID))
        self.severity = severity("HIGH")

    def _fail(self, why: str) -> CheckResult:
        self.details.append(why)
        return CheckResult.FAILED

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        scope = Scope(self, conf)
        if not is_backup_bucket(scope):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            return self._fail("count/for_each not expanded by Checkov's HCL evaluation; scanning the "
                              "plan (scan DIR --plan) lets Terraform expand it")
        enabled = as_bool(attr(scope.conf, "object_lock_enabled"))
        if enabled is not True:
            shown = "not set" if enabled is None else enabled
            return self._fail(f"object_lock_enabled is {shown}: backups can be overwritten or deleted")
        found = companions(scope, LOCK)
        if not found.linked:
            return self._fail(missing_message(LOCK, found, "nothing is locked by default"))
        for lock in found.linked:
            why = _retention_problem(lock.conf)
            if why:
                return self._fail(f"{lock.address}: {why}")
        return CheckResult.PASSED


check = BackupBucketObjectLock()
