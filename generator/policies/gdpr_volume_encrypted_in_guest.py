"""CKV_GDPR_1: a volume holding personal data declares guest encryption with customer-held keys."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    guideline,
    has_no_instances,
    holds_personal_data,
    is_expanded,
    map_value,
    severity,
)

ID = "CKV_GDPR_1"
ENCRYPTIONS = frozenset({"luks-tang"})


class VolumeEncryptedInGuest(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure volumes holding personal data are encrypted inside the guest "
                 "(ssb_encryption = luks-tang)",
            id=ID, categories=[CheckCategories.ENCRYPTION],
            supported_resources=["openstack_blockstorage_volume_v3"], guideline=guideline(ID))
        self.severity = severity("HIGH")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            self.details.append("count/for_each not expanded by Checkov: evidence unresolved")
            return CheckResult.FAILED
        if not holds_personal_data(conf, "metadata"):
            return CheckResult.PASSED
        found = map_value(conf, "metadata", "ssb_encryption")
        if isinstance(found, str) and found in ENCRYPTIONS:
            return CheckResult.PASSED
        shown = found if isinstance(found, str) else "missing or unresolved"
        self.details.append(f"metadata.ssb_encryption is {shown}")
        return CheckResult.FAILED


check = VolumeEncryptedInGuest()
