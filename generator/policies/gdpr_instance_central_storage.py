"""CKV_GDPR_4: instances with personal data run on b2 and boot from a central (three-copy) volume."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    Scope,
    Unresolved,
    as_int,
    attr,
    guideline,
    has_no_instances,
    holds_personal_data,
    is_expanded,
    nested_blocks,
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
            self.details.append("count/for_each not expanded by Checkov's HCL evaluation; scanning the "
                                "plan (scan DIR --plan) lets Terraform expand it")
            return CheckResult.FAILED
        scope = Scope(self, conf)
        conf = scope.conf
        if not holds_personal_data(conf, "metadata"):
            return CheckResult.PASSED
        flavor = attr(conf, "flavor_name")
        if isinstance(flavor, Unresolved) or not isinstance(flavor, str):
            self.details.append(f"flavor_name is {flavor if isinstance(flavor, Unresolved) else 'not set'}")
            return CheckResult.FAILED
        if not flavor.startswith("b2."):
            self.details.append(f"flavor {flavor} keeps its disk in a single local copy (holds personal "
                                "data: use a b2 flavor, which boots from central three-copy storage)")
            return CheckResult.FAILED
        devices = nested_blocks(scope, "block_device")
        if isinstance(devices, Unresolved):
            self.details.append(f"the boot volume is {devices}")
            return CheckResult.FAILED
        for device in devices:
            if (attr(device, "source_type") == "image" and attr(device, "destination_type") == "volume"
                    and as_int(attr(device, "boot_index")) == 0):
                return CheckResult.PASSED
        self.details.append(f"flavor {flavor} without a boot volume (no block_device with source_type "
                            "image, destination_type volume, boot_index 0): the instance cannot boot")
        return CheckResult.FAILED


check = InstanceBootsFromCentralStorage()
