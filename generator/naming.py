"""Names of what a blueprint creates: resources on Safespring and module calls in Terraform.

One place for both directions: the renderer names module calls and resources from the spec,
and the report turns a Terraform address back into the group, volume or bucket of the spec it
belongs to (its evidence is listed by those, not by address). Pure string functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.spec.model import COLLECTOR_GROUP, EGRESS_GROUP

BACKUP_MODULE = "backup_bucket"
_OWN_GROUP_MODULES = {COLLECTOR_GROUP: "log_collector", EGRESS_GROUP: "egress_proxy"}


def group_module(group: str) -> str:
    """The module call of an instance group; the generator's own groups get names without a
    hyphen (a reference such as `module.egress_proxy.access_ip_v4` must read as one in every
    tool)."""
    return _OWN_GROUP_MODULES.get(group, f"instances_{group}")


def group_resource(deployment: str, group: str) -> str:
    """The name prefix of a group's instances (`<deployment>-<group>-<n>`) and server group."""
    return f"{deployment}-{group}"


def volume_module(group: str, volume: str) -> str:
    return f"volume_{group}_{volume}"


def volume_resource(deployment: str, group: str, volume: str) -> str:
    return f"{deployment}-{group}-{volume}"


def bucket_module(bucket: str) -> str:
    return f"bucket_{bucket}"


def bucket(deployment: str, bucket: str) -> str:
    """A data bucket's name on Safespring Storage."""
    return f"{deployment}-{bucket}"


def backup_bucket(deployment: str) -> str:
    """The backup bucket's name on the backup site."""
    return f"{deployment}-backup"


@dataclass(frozen=True)
class Owner:
    """What of the spec a Terraform address belongs to: an instance group, a data bucket, the
    backup or state bucket, access, or the blueprint as a whole."""

    kind: str  # group | bucket | backup | state | access | providers | other
    name: str  # the group or bucket name ("" for the others)

    def describe(self) -> str:
        return {"group": f"instance group {self.name}", "bucket": f"bucket {self.name}",
                "backup": "backups", "state": "Terraform state", "access": "access",
                "providers": "providers and backend"}.get(self.kind, "other")


_MODULE = re.compile(r'^module\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?\.')
_KEYED = re.compile(r'\["(?P<key>[^"]+)"\]')


def owner(address: str, groups: tuple[str, ...], buckets: tuple[str, ...]) -> Owner:
    """The spec object a Terraform address (or provider block such as `aws.backup`) belongs
    to, for the group names and (spec-side) bucket names of the deployment."""
    m = _MODULE.match(address)
    if m is None:
        if address.split(".")[0] in ("aws", "openstack") or address.startswith("terraform"):
            return Owner("providers", "")
        return Owner("other", "")
    module = m.group(1)
    by_module = {group_module(g): g for g in groups}
    if module in by_module:
        return Owner("group", by_module[module])
    for g in sorted(groups, key=len, reverse=True):
        if module.startswith(f"volume_{g}_"):
            return Owner("group", g)
    if module == "security_groups":
        key = _KEYED.search(address)
        group = key.group("key").split("/")[0] if key else ""
        return Owner("group", group) if group in groups else Owner("other", "")
    if module == BACKUP_MODULE:
        return Owner("backup", "")
    if module == "state_bucket":
        return Owner("state", "")
    if module == "access":
        return Owner("access", "")
    by_bucket = {bucket_module(b): b for b in buckets}
    if module in by_bucket:
        return Owner("bucket", by_bucket[module])
    return Owner("other", "")
