"""LUKS inside the guest with keys bound to the customer's Tang servers (zero knowledge).

Safespring's two volume types are not encrypted types (docs.safespring.com/compute/volume/);
its disk encryption protects against stolen disks, but Safespring holds that key (Safespring's
GDPR page on safespring.com, "Data Encryption"). Formatting the volume with LUKS in the
guest and binding it with Clevis to Tang servers the customer runs means the platform never
holds a key to personal data (Art. 32(1)(a)).
"""

from __future__ import annotations

import ssb_guest
from generator.render.cloudinit import GuestFile, Part, json_file
from generator.spec.model import InstanceGroup, Spec
from ssb_guest import luks_tang

SCRIPT = "/usr/local/sbin/ssb-luks-tang"
# The program's configuration: its path and keys are defined by the program (ssb_guest/luks_tang.py).
CONFIG = luks_tang.ENV_DEFAULTS["SSB_LUKS_CONFIG"]
UNIT_DIR = "/etc/systemd/system"
# Installed by cloud-init, and by ssb-luks-tang itself when first boot could not.
PACKAGES = ("clevis", "clevis-luks", "cryptsetup", "e2fsprogs")
# ssb-volumes.target is what services that write to the volumes order themselves after.
UNITS = ("ssb-volumes.service", "ssb-volumes.target")


def metadata_key(volume_name: str) -> str:
    """Instance metadata key carrying the volume id (the guest finds the device by serial)."""
    return f"ssb_volume_{volume_name}"


def parts(spec: Spec, group: InstanceGroup) -> list[Part]:
    """Unlock and mount every luks-tang volume at every boot (formatting empty ones once)."""
    volumes = group.encrypted_volumes
    if not volumes:
        return []
    config = luks_tang.config(
        packages=PACKAGES, tang_servers=spec.tang_servers, threshold=1,
        volumes=[luks_tang.volume(name=v.name, metadata_key=metadata_key(v.name),
                                  mountpoint=v.mountpoint, filesystem="ext4")
                 for v in volumes])
    units = tuple(GuestFile(f"{UNIT_DIR}/{unit}", ssb_guest.read(f"units/{unit}"))
                  for unit in UNITS)
    return [Part(
        measure="luks-tang",
        order=10,
        packages=PACKAGES,
        files=(GuestFile(*ssb_guest.program(SCRIPT)), json_file(CONFIG, config), *units),
        # A systemd unit, not a first-boot command: it runs at every boot and retries until
        # Tang answers. Started without waiting so cloud-init never hangs on Tang.
        commands=(("systemctl", "daemon-reload"),
                  ("systemctl", "enable", "ssb-volumes.service"),
                  ("systemctl", "start", "--no-block", "ssb-volumes.service")),
    )]
