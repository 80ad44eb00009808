"""CKV_GDPR_4: instances with personal data run on b2 and boot from a central (three-copy) volume."""

from __future__ import annotations

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope, nested_blocks
from generator.evidence.values import Unresolved, as_int, attr, holds_personal_data


class InstanceBootsFromCentralStorage(ResourceCheck):
    ID = "CKV_GDPR_4"

    def judge(self, scope: Scope) -> Verdict:
        conf = scope.conf
        if not holds_personal_data(conf, "metadata"):
            return PASS
        flavor = attr(conf, "flavor_name")
        if isinstance(flavor, Unresolved):
            return unknown(f"flavor_name is {flavor}")
        if not isinstance(flavor, str):
            return fail("flavor_name is not set")
        if not flavor.startswith("b2."):
            return fail(f"flavor {flavor} keeps its disk in a single local copy (holds personal data: "
                        "use a b2 flavor, which boots from central three-copy storage)")
        devices = nested_blocks(scope, "block_device")
        if isinstance(devices, Unresolved):
            return unknown(f"the boot volume is {devices}")
        for device in devices:
            if (attr(device, "source_type") == "image" and attr(device, "destination_type") == "volume"
                    and as_int(attr(device, "boot_index")) == 0):
                return PASS
        return fail(f"flavor {flavor} without a boot volume (no block_device with source_type image, "
                    "destination_type volume, boot_index 0): the instance cannot boot")


check = InstanceBootsFromCentralStorage()
