"""CKV_GDPR_1: a volume holding personal data declares guest encryption with customer-held keys."""

from __future__ import annotations

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope
from generator.evidence.values import CLASSIFICATION_KEY, MISSING, Unresolved, holds_personal_data, map_value

ENCRYPTIONS = frozenset({"luks-tang"})


class VolumeEncryptedInGuest(ResourceCheck):
    ID = "CKV_GDPR_1"

    def judge(self, scope: Scope) -> Verdict:
        conf = scope.conf
        if not holds_personal_data(conf, "metadata"):
            return PASS
        found = map_value(conf, "metadata", "ssb_encryption")
        if isinstance(found, str) and found in ENCRYPTIONS:
            return PASS
        classification = map_value(conf, "metadata", CLASSIFICATION_KEY)
        holds = (f"holds personal data (ssb_classification {classification})"
                 if isinstance(classification, str)
                 else "holds personal data (no ssb_classification says otherwise)")
        if isinstance(found, Unresolved):
            return unknown(f"{holds}; metadata.ssb_encryption is {found}")
        if found is MISSING:
            return fail(f"{holds} but declares no guest encryption: metadata ssb_encryption is not "
                        "set (luks-tang: LUKS2 in the guest, keys through your Tang servers)")
        return fail(f"{holds} but metadata ssb_encryption is {found}, not luks-tang")


check = VolumeEncryptedInGuest()
