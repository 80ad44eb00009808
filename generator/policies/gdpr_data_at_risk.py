"""CKV_GDPR_23: a plan never deletes or replaces what holds data without saying so.

A routine change (a renamed volume, a lower count, a new generator version, a changed user_data
that forces a new server) makes Terraform delete a volume, a bucket or an instance with its boot
volume; `apply -auto-approve` carries it out. Losing personal data that way is a breach of
integrity and availability (Art. 5(1)(f), 32(1)(b)) and of the ability to restore (32(1)(c)).

Plan mode only: a replaced resource is in the planned values and this check fails it, naming
the arguments that force the replacement (Terraform's `replace_paths`). A resource the plan only
deletes is not in the planned values, so no Checkov check sees it: the scan adds its finding
under this id from the plan's `resource_changes` (generator/scan.py, evidence_change.py).
In HCL mode there is no plan to judge: the check is skipped with that reason, never passed.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import Scope, guideline, has_no_instances, severity
from generator.policies.evidence_change import DATA_HOLDERS, ID, NAME, at_risk


class DataNotDeletedByPlan(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=NAME,
            id=ID, categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=sorted(DATA_HOLDERS), guideline=guideline(ID))
        self.severity = severity("CRITICAL")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        scope = Scope(self, conf)
        if scope.plan is None:
            return CheckResult.SKIPPED  # the scan gives the reason (evidence_change.HCL_REASON)
        mine = [r for r in at_risk(scope.plan.doc) if r.address == scope.address]
        if not mine:
            return CheckResult.PASSED
        self.details.extend(r.describe() for r in mine)
        return CheckResult.FAILED


check = DataNotDeletedByPlan()
