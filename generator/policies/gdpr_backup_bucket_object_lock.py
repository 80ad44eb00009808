"""CKV_GDPR_13: a backup bucket is write-once: Object Lock on, with a default retention.

Restic writes objects without a retention of its own, so only the bucket's default retention
locks them: `object_lock_enabled = true` on the bucket alone locks nothing. The check runs on
calls of the project's backup-bucket module and reads the resources Checkov rendered for the
call from the scan graph (a resource check cannot tell a backup bucket from another bucket, nor
see that the lock configuration is missing).
"""

from __future__ import annotations

import posixpath
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.module.base_module_check import BaseModuleCheck

from generator.policies.evidence import (
    as_bool,
    as_int,
    attr,
    block_config,
    blocks,
    entity_file,
    graph_blocks,
    guideline,
    has_no_instances,
    is_expanded,
    module_call_resources,
    scan_root,
    severity,
)

ID = "CKV_GDPR_13"
BACKUP_MODULE = "backup-bucket"
MODES = ("GOVERNANCE", "COMPLIANCE")


def is_backup_bucket_call(conf: dict[str, Any]) -> bool:
    """True for a call of the project's backup-bucket module (local source ending in it)."""
    source = attr(conf, "source")
    return isinstance(source, str) and posixpath.basename(source.rstrip("/")) == BACKUP_MODULE


def _retention_ok(lock: dict[str, Any]) -> str | None:
    """None when the lock configuration has a usable default retention, else why not."""
    if has_no_instances(lock):
        return "the object lock configuration is switched off (count/for_each empty)"
    if not is_expanded(lock):
        return "object lock configuration not expanded by Checkov: evidence unresolved"
    for rule in blocks(lock, "rule"):
        for retention in blocks(rule, "default_retention"):
            mode = attr(retention, "mode")
            days, years = as_int(attr(retention, "days")), as_int(attr(retention, "years"))
            if mode not in MODES:
                return f"default_retention.mode is {mode}, not GOVERNANCE or COMPLIANCE"
            if (isinstance(days, int) and days >= 1) or (isinstance(years, int) and years >= 1):
                return None
            return f"default_retention has no positive days/years (days={days}, years={years})"
    return "no rule.default_retention: objects restic writes would not be locked"


class BackupBucketObjectLock(BaseModuleCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure backup buckets have Object Lock enabled with a default retention",
            id=ID, categories=[CheckCategories.BACKUP_AND_RECOVERY], guideline=guideline(ID))
        self.severity = severity("HIGH")

    def scan_module_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not is_backup_bucket_call(conf):
            return CheckResult.UNKNOWN
        nodes = graph_blocks(self.graph)
        relative = entity_file(self.entity_path)
        root = scan_root(nodes, relative)
        call = self.entity_path.rsplit(":", 1)[-1]
        if root is None:
            self.details.append("scan graph unavailable: cannot see the module's resources")
            return CheckResult.FAILED
        resources = module_call_resources(nodes, root + relative, call)
        buckets = [block_config(n) for n in resources if n.get("resource_type") == "aws_s3_bucket"]
        locks = [block_config(n) for n in resources
                 if n.get("resource_type") == "aws_s3_bucket_object_lock_configuration"]
        if not buckets:
            self.details.append("no aws_s3_bucket rendered for the call: evidence unresolved")
            return CheckResult.FAILED
        for bucket in buckets:
            if as_bool(attr(bucket, "object_lock_enabled")) is not True:
                self.details.append(f"object_lock_enabled is {attr(bucket, 'object_lock_enabled')}, not true")
                return CheckResult.FAILED
        if len(locks) < len(buckets):
            self.details.append("no aws_s3_bucket_object_lock_configuration: nothing is locked by default")
            return CheckResult.FAILED
        for lock in locks:
            why = _retention_ok(lock)
            if why:
                self.details.append(why)
                return CheckResult.FAILED
        return CheckResult.PASSED


check = BackupBucketObjectLock()
