"""Customer-run, client-side-encrypted backups to an Object-Locked bucket on another site.

Safespring does not back up customer data. Every instance group with data volumes runs restic
to the backup bucket in `backup_site`, with the repository key bound to the customer's Tang
servers (Art. 32(1)(c) restore after an incident; 32(1)(b) resilience against site loss and
ransomware). The log collector is not backed up: its logs have their own retention, which a
year of backups would outlive (Art. 5(1)(e)).
"""

from __future__ import annotations

from generator import naming
from generator.guest.backup import backup_config, endpoint_for
from generator.render.cloudinit import Part, part_from
from generator.spec.model import COLLECTOR_GROUP, InstanceGroup, Spec

# After disk encryption (volumes must be mounted) and before logging (AIDE's baseline last).
ORDER = 50


def bucket_name(spec: Spec) -> str:
    return naming.backup_bucket(spec.name)


def backed_up(spec: Spec, group: InstanceGroup) -> bool:
    """Groups whose volumes are backed up: all with volumes, except the log collector."""
    return spec.backup is not None and bool(group.volumes) and group.name != COLLECTOR_GROUP


def enabled(spec: Spec) -> bool:
    """Whether the deployment needs a backup bucket at all."""
    return any(backed_up(spec, g) for g in spec.groups)


def parts(spec: Spec, group: InstanceGroup) -> list[Part]:
    """restic, its Tang-bound key, timers that run and prove backups, and a restore command."""
    if not backed_up(spec, group) or spec.backup is None or spec.backup_site is None:
        return []
    config = backup_config(
        endpoint=endpoint_for(spec.backup_site), bucket=bucket_name(spec),
        schedule=spec.backup.schedule, keep=dict(spec.backup.keep),
        paths=[v.mountpoint for v in group.volumes], tang_servers=spec.tang_servers,
        source_site=spec.site)
    return [part_from("backup", ORDER, config)]
