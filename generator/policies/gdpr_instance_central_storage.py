"""CKV_GDPR_4: instances with personal data run on b2 and boot from a central (three-copy) volume."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    Unresolved,
    as_int,
    attr,
    blocks,
    guideline,
    has_no_instances,
    holds_personal_data,
    is_expanded,
    severity,
)

ID = "CKV_GDPR_4"


class InstanceBootsFromCentralStorage(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure instances holding personal data use a b2 flavor and boot from a volume on "
                 "central three-copy storage",
            id=ID, categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["openstack_compute_instance_v2"], guideline=guideline(ID))
        self.severity = severity("HIGH")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            self.details.append("count/for_each not expanded by Checkov: evidence unresolved")
            return CheckResult.FAILED
        if not holds_personal_data(conf, "metadata"):
            return CheckResult.PASSED
        flavor = attr(conf, "flavor_name")
        if not isinstance(flavor, str) or isinstance(flavor, Unresolved):
            self.details.append(f"flavor_name is {flavor if isinstance(flavor, Unresolved) else 'not set'}")
            return CheckResult.FAILED
        if not flavor.startswith("b2."):
            self.details.append(f"flavor {flavor} keeps its disk in a single local copy")
            return CheckResult.FAILED
        for device in blocks(conf, "block_device"):
            if (attr(device, "source_type") == "image" and attr(device, "destination_type") == "volume"
                    and as_int(attr(device, "boot_index")) == 0):
                return CheckResult.PASSED
        self.details.append("no block_device source_type=image, destination_type=volume, boot_index=0")
        return CheckResult.FAILED


check = InstanceBootsFromCentralStorage()
