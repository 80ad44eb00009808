"""CKV_GDPR_5: instances of a group of more than one are placed by an anti-affinity server group.

Group size is read from the address Checkov gives an expanded `count`/`for_each` (index 1 or
"key" beyond the first means more than one), or from the instance's metadata
ssb_anti_affinity = "false" (a group of one). Checkov renders a dynamic scheduler_hints block
once whatever its for_each, so a dynamic hint counts as present; the module's own tests show
that the hint and the server group exist together.
"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    Unresolved,
    attr,
    blocks,
    guideline,
    has_no_instances,
    is_expanded,
    map_value,
    severity,
)

ID = "CKV_GDPR_5"
_INDEX = re.compile(r"\[(\"[^\"]*\"|[0-9]+)\]$")


def _hint_present(conf: dict[str, Any]) -> bool:
    for hint in blocks(conf, "scheduler_hints"):
        group = attr(hint, "group")
        if isinstance(group, str) and group.strip():
            return True
        if isinstance(group, Unresolved):
            raw = str(group.raw)
            if "openstack_compute_servergroup_v2." in raw or raw.endswith("scheduler_hints.value"):
                return True
    return False


class InstanceAntiAffinity(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure instances of a group of more than one set scheduler_hints.group to an "
                 "anti-affinity server group",
            id=ID, categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["openstack_compute_instance_v2"], guideline=guideline(ID))
        self.severity = severity("MEDIUM")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            self.details.append("count/for_each not expanded by Checkov: group size unknown")
            return CheckResult.FAILED
        if _hint_present(conf):
            return CheckResult.PASSED
        index = _INDEX.search(str(conf.get("__address__", "")))
        if index is None:
            return CheckResult.PASSED  # a single instance, no count/for_each
        if index.group(1) not in ("0",) and not index.group(1).startswith('"'):
            self.details.append("member of a group of more than one without scheduler_hints.group")
            return CheckResult.FAILED
        if map_value(conf, "metadata", "ssb_anti_affinity") == "false":
            return CheckResult.PASSED
        self.details.append("no scheduler_hints.group and no evidence (metadata ssb_anti_affinity = "
                            "\"false\") that the instance is alone")
        return CheckResult.FAILED


check = InstanceAntiAffinity()
