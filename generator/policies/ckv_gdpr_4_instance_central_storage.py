"""CKV_GDPR_4: instances with personal data keep their disk on central (three-copy) storage.

An instance that boots from a volume (a `block_device` with destination_type "volume" and
boot_index 0) keeps its root disk on Cinder, central block storage on Safespring, whatever its
flavor is called, except Safespring's l2 flavors, which boot only from their local NVMe (one
copy; from a volume they fail). One that boots from an image runs on its flavor's own disk; a
b2 flavor has no disk and cannot boot that way. Another
cloud's flavor (or one given by `flavor_id`) may keep that disk anywhere: the scan cannot tell,
and says what would make it known.
"""

from __future__ import annotations

from typing import Any

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope, nested_blocks
from generator.evidence.values import MISSING, Unresolved, as_int, attr, holds_personal_data

BOOT_FROM_VOLUME = ("a block_device with destination_type volume and boot_index 0 (source_type image, "
                    "volume or snapshot)")


def boot_volume(devices: list[dict[str, Any]]) -> dict[str, Any] | Unresolved | None:
    """The block_device the instance boots from when it is a volume, else None."""
    for device in devices:
        destination, index = attr(device, "destination_type"), as_int(attr(device, "boot_index"))
        for value in (destination, index):
            if isinstance(value, Unresolved):
                return value
        source = attr(device, "source_type")
        # Nova boots from the device with boot_index 0; an image-backed volume written without a
        # boot_index is the only bootable device there is.
        if destination == "volume" and (index == 0 or (index is None and source == "image")):
            return device
    return None


class InstanceBootsFromCentralStorage(ResourceCheck):
    ID = "CKV_GDPR_4"

    def judge(self, scope: Scope) -> Verdict:
        conf = scope.conf
        if not holds_personal_data(conf, "metadata"):
            return PASS
        flavor = attr(conf, "flavor_name")
        if isinstance(flavor, str) and flavor.startswith("l2."):
            # Safespring boots l2 flavors from their local disk only (from a volume they fail).
            return fail(f"boots from the image on flavor {flavor}'s local disk, a single copy (holds "
                        f"personal data: boot from a volume, {BOOT_FROM_VOLUME}, on a b2 flavor)")
        devices = nested_blocks(scope, "block_device")
        if isinstance(devices, Unresolved):
            return unknown(f"the boot volume is {devices}")
        boot = boot_volume(devices)
        if isinstance(boot, Unresolved):
            return unknown(f"the boot device is {boot}")
        if boot is not None:
            return PASS  # the root disk is a volume on central block storage
        by_id = attr(conf, "flavor_id") not in (MISSING, "")
        if isinstance(flavor, Unresolved) and not by_id:
            return unknown(f"flavor_name is {flavor}")
        if isinstance(flavor, str) and flavor.startswith("b2."):
            return fail(f"flavor {flavor} without a boot volume ({BOOT_FROM_VOLUME}): b2 flavors have "
                        "no disk, the instance cannot boot")
        shown = f"flavor {flavor}" if isinstance(flavor, str) else (
            "the flavor given by flavor_id" if by_id else "its flavor")
        return unknown(f"boots from the image on {shown}'s own disk, which the scan cannot place: on "
                       "Safespring only l2 flavors have one (a single local copy); boot from a volume "
                       f"({BOOT_FROM_VOLUME}), or skip the check with the reason when the cloud keeps "
                       "that disk on replicated storage")


check = InstanceBootsFromCentralStorage()
