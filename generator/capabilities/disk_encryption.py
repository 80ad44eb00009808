"""LUKS inside the guest with keys bound to the customer's Tang servers (zero knowledge).

Safespring's two volume types are not encrypted types (docs.safespring.com/compute/volume/);
its disk encryption protects against stolen disks, but Safespring holds that key (Safespring's
GDPR page on safespring.com, "Data Encryption"). Formatting the volume with LUKS in the
guest and binding it with Clevis to Tang servers the customer runs means the platform never
holds a key to personal data (Art. 32(1)(a)).
"""

from __future__ import annotations

from generator.render.cloudinit import GuestFile, Part, json_file, static_file
from generator.spec.model import InstanceGroup, Spec

SCRIPT = "/usr/local/sbin/ssb-luks-tang"
CONFIG = "/etc/safespring-blueprints/luks-tang.json"


def metadata_key(volume_name: str) -> str:
    """Instance metadata key carrying the volume id (the guest finds the device by serial)."""
    return f"ssb_volume_{volume_name}"


def parts(spec: Spec, group: InstanceGroup) -> list[Part]:
    """Format, bind and mount every luks-tang volume of the group at first boot."""
    volumes = group.encrypted_volumes
    if not volumes:
        return []
    config = {
        "tang_servers": list(spec.tang_servers),
        "threshold": 1,
        "volumes": [
            {"name": v.name, "metadata_key": metadata_key(v.name), "mountpoint": v.mountpoint,
             "filesystem": "ext4"}
            for v in volumes
        ],
    }
    return [Part(
        measure="luks-tang",
        order=10,
        packages=("clevis", "clevis-luks", "clevis-systemd", "cryptsetup"),
        files=(GuestFile(SCRIPT, static_file("ssb-luks-tang"), "0755"), json_file(CONFIG, config)),
        commands=((SCRIPT, "--config", CONFIG),),
    )]
