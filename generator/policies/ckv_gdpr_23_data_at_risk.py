"""CKV_GDPR_23: a plan never deletes or replaces what holds data without saying so.

A routine change (a renamed volume, a lower count, a new generator version, a changed user_data
that forces a new server) makes Terraform delete a volume, a bucket or an instance with its boot
volume; `apply -auto-approve` carries it out. Losing personal data that way is a breach of
integrity and availability (Art. 5(1)(f), 32(1)(b)) and of the ability to restore (32(1)(c)).

Plan mode only: a replaced resource is in the planned values and this check fails it, naming
the arguments that force the replacement (Terraform's `replace_paths`). A resource the plan only
deletes is not in the planned values, so no Checkov check sees it: the scan adds its finding
under this id from the plan's `resource_changes` (generator/scan.py, generator/evidence/change.py).
In HCL mode there is no plan to judge: the check is skipped with that reason, never passed.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckResult

from generator.evidence.change import at_risk
from generator.evidence.check import PASS, ResourceCheck, Verdict, fail
from generator.evidence.scope import Scope
from generator.evidence.values import has_no_instances


class DataNotDeletedByPlan(ResourceCheck):
    ID = "CKV_GDPR_23"
    NEEDS_EXPANSION = False  # a plan always is

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not has_no_instances(conf) and Scope(self, conf).plan is None:
            return CheckResult.SKIPPED  # the scan gives the reason (change.HCL_REASON)
        return super().scan_resource_conf(conf)

    def judge(self, scope: Scope) -> Verdict:
        mine = [r for r in at_risk(scope.plan.doc) if r.address == scope.address]
        return fail(*(r.describe() for r in mine)) if mine else PASS


check = DataNotDeletedByPlan()
