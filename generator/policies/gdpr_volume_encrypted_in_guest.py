"""CKV_GDPR_1: a volume holding personal data declares guest encryption with customer-held keys."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    CLASSIFICATION_KEY,
    MISSING,
    Scope,
    Unresolved,
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
            self.details.append("count/for_each not expanded by Checkov's HCL evaluation; scanning the "
                                "plan (scan DIR --plan) lets Terraform expand it")
            return CheckResult.FAILED
        conf = Scope(self, conf).conf
        if not holds_personal_data(conf, "metadata"):
            return CheckResult.PASSED
        found = map_value(conf, "metadata", "ssb_encryption")
        if isinstance(found, str) and found in ENCRYPTIONS:
            return CheckResult.PASSED
        classification = map_value(conf, "metadata", CLASSIFICATION_KEY)
        holds = (f"holds personal data (ssb_classification {classification})"
                 if isinstance(classification, str)
                 else "holds personal data (no ssb_classification says otherwise)")
        if isinstance(found, Unresolved):
            self.details.append(f"{holds}; metadata.ssb_encryption is {found}")
        elif found is MISSING:
            self.details.append(f"{holds} but declares no guest encryption: metadata ssb_encryption is "
                                "not set (luks-tang: LUKS2 in the guest, keys through your Tang servers)")
        else:
            self.details.append(f"{holds} but metadata ssb_encryption is {found}, not luks-tang")
        return CheckResult.FAILED


check = VolumeEncryptedInGuest()
