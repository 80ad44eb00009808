"""The validated spec as typed, frozen objects: what the renderer reads.

Built only from data that passed the schema and the rules, so nothing here re-validates.
Defaults that depend on other keys (b2 boot volume size, measures switched on for personal
data, stricter TLS for special categories) are decided here, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from generator.platform import platform

DEFAULT_B2_BOOT_GB = 20
# The log collector the generator adds with `logging.central` (a reserved group name).
COLLECTOR_GROUP = "log-collector"
COLLECTOR_PORT = 6514
# Where clients renew their log-shipping certificates (generator/features/logging/guest.py).
RENEWAL_PORT = 6515
# The egress proxy the generator adds for groups on the `private` network (a reserved name).
EGRESS_GROUP = "egress-proxy"
EGRESS_PORT = 3128


@dataclass(frozen=True)
class Volume:
    """A data volume of an instance group: size, type, encryption and mount point."""

    name: str
    size: int
    type: str
    encryption: str
    mountpoint: str


@dataclass(frozen=True)
class Flow:
    """Traffic from another instance group to this one (east-west, by security group)."""

    instance: str
    port: int
    protocol: str


@dataclass(frozen=True)
class InstanceGroup:
    """`count` identical instances: one flavor, image, network and guest configuration."""

    name: str
    count: int
    flavor: str
    image: str
    network: str
    boot_volume_size: int | None
    volumes: tuple[Volume, ...]
    ssh_from: tuple[str, ...]
    allow_from: tuple[Flow, ...]

    @property
    def boots_from_volume(self) -> bool:
        """b2 flavors have no local disk: they boot from central (three-copy) storage."""
        return platform().flavor_family(self.flavor)["boot"] == "volume"

    @property
    def storage(self) -> str:
        return platform().flavor_family(self.flavor)["storage"]

    @property
    def encrypted_volumes(self) -> tuple[Volume, ...]:
        return tuple(v for v in self.volumes if v.encryption == "luks-tang")


@dataclass(frozen=True)
class Endpoint:
    """A public HTTPS name a group's TLS proxy serves in front of a local backend port."""

    name: str
    hostname: str
    instance: str
    backend_port: int
    certificate: str
    min_tls: str


@dataclass(frozen=True)
class ObjectLock:
    """Write-once retention on a bucket: the lock mode and its days."""

    mode: str
    days: int


@dataclass(frozen=True)
class Bucket:
    """An S3 bucket at the deployment's site and how long its objects live."""

    name: str
    object_lock: ObjectLock | None
    retention_days: int
    public: bool


@dataclass(frozen=True)
class Access:
    """One person's or service's access: kind, role and the date it ends; a person's own SSH
    key gives them an instance login (admins everywhere, members on the spec's groups)."""

    name: str
    kind: str
    role: str
    expires: str
    ssh_key: str | None = None

    @property
    def logs_in(self) -> bool:
        """A person with an instance login of their own."""
        return self.kind == "person" and self.ssh_key is not None and self.role in (
            "admin", "member")


@dataclass(frozen=True)
class BreakGlass:
    """The OpenStack key pair the instances get: one holder, one end date."""

    holder: str
    expires: str


@dataclass(frozen=True)
class Logging:
    """Log management: central collection, retention and intrusion detection."""

    central: bool
    retention_days: int
    intrusion_detection: bool


# restic's forget periods, with the longest time a snapshot of each can be old (while backups
# run): `keep.monthly: 12` keeps the last snapshot of each of the last 12 months.
KEEP_DEFAULTS = {"hourly": 0, "daily": 7, "weekly": 4, "monthly": 12}
_KEEP_UNIT = {"hourly": ("hour", 1 / 24), "daily": ("day", 1), "weekly": ("week", 7),
              "monthly": ("month", 31)}


def keep_span(keep: dict[str, int]) -> tuple[int, str]:
    """How long the oldest snapshot a keep policy holds can be: (days, in words), e.g.
    (372, "12 months") for `monthly: 12`. Deleted data lives on in backups that long."""
    days, words = 0, "no time"
    for period, (unit, per) in _KEEP_UNIT.items():
        count = keep.get(period) or 0
        span = -(-count * per // 1) if count else 0
        if count and span >= days:
            days, words = int(span), f"{count} {unit}{'s' if count != 1 else ''}"
    return days, words


# restic prune runs weekly (ssb-backup maintain): what forget releases is deleted within a week.
PRUNE_DAYS = 7


def noncurrent_days(lock_days: int) -> int:
    """Days the backup bucket keeps a version restic (or anyone) deleted: past the lock, 30 at
    least (the backup-bucket module's default)."""
    return max(30, lock_days + 1)


def longest_days(keep: dict[str, int], lock_days: int) -> int:
    """How long data deleted on a volume stays in the backups: the keep span, then the weekly
    prune, then the bucket's noncurrent period (what storage limitation is judged on)."""
    return keep_span(keep)[0] + PRUNE_DAYS + noncurrent_days(lock_days)


def most_kept(period: str, limit: int) -> int:
    """The largest count of `period` whose snapshots are at most `limit` days old (0 when even
    one is older): the arithmetic of keep_span, solved for the count."""
    if limit < 1:
        return 0
    return limit * 24 if period == "hourly" else limit // int(_KEEP_UNIT[period][1])


def fitted_keep(keep: dict[str, int], written: frozenset[str] | set[str], retention: int,
                lock_days: int) -> dict[str, int]:
    """`keep` with each count the spec did not write lowered to the most whose snapshots leave
    room, within `retention` days, for the weekly prune and the bucket's noncurrent period.
    Written counts stay as written: one that outlives the retention is refused (rules.py),
    never changed."""
    limit = retention - PRUNE_DAYS - noncurrent_days(lock_days)
    return {period: count if period in written else min(count, most_kept(period, limit))
            for period, count in keep.items()}


@dataclass(frozen=True)
class Backup:
    """Customer-run backups: the schedule and how many snapshots of each kind to keep."""

    schedule: str
    keep: tuple[tuple[str, int], ...]
    lock_mode: str = "COMPLIANCE"
    lock_days: int = 14

    @property
    def noncurrent_days(self) -> int:
        """Days a version restic (or anyone) deleted stays recoverable (`noncurrent_days`)."""
        return noncurrent_days(self.lock_days)

    @property
    def longest_days(self) -> int:
        """Days data deleted on a volume stays in the backups (`longest_days`)."""
        return longest_days(dict(self.keep), self.lock_days)

    @property
    def span(self) -> tuple[int, str]:
        """The longest a snapshot is kept (days, in words): see `keep_span`."""
        return keep_span(dict(self.keep))


@dataclass(frozen=True)
class Egress:
    """How private groups reach the outside: through an allow-list proxy, or (none) directly."""

    proxy: str
    allow: tuple[str, ...]
    instances: int


@dataclass(frozen=True)
class State:
    """Where Terraform keeps the deployment's state."""

    backend: str
    bucket: str


@dataclass(frozen=True)
class Spec:
    """One deployment, fully understood."""

    name: str
    description: str
    controller: str | None
    contact: str | None
    review_by: str | None
    personal: bool
    special_categories: bool
    retention_days: int
    site: str
    backup_site: str | None
    tang_servers: tuple[str, ...]
    access: tuple[Access, ...]
    instances: tuple[InstanceGroup, ...]
    endpoints: tuple[Endpoint, ...]
    buckets: tuple[Bucket, ...]
    logging: Logging
    backup: Backup | None
    state: State
    egress: Egress = Egress(proxy="auto", allow=(), instances=2)
    break_glass: BreakGlass | None = None

    @property
    def classification(self) -> str:
        """The data classification recorded as evidence on every resource."""
        if self.special_categories:
            return "personal-special"
        return "personal" if self.personal else "non-personal"

    @cached_property
    def private_groups(self) -> tuple[InstanceGroup, ...]:
        """The spec's groups on the `private` network, which reach the outside only by proxy."""
        return tuple(g for g in self.instances if g.network == "private")

    @property
    def egress_proxied(self) -> bool:
        """Whether the blueprint adds the egress proxy (private groups and `proxy: auto`)."""
        return self.egress.proxy == "auto" and bool(self.private_groups)

    @cached_property
    def egress_proxy(self) -> InstanceGroup | None:
        """The egress proxy group: on `default`, reached from the private groups only (the
        proxy port and NTP), on the image the VM suite boots first, like the log collector."""
        if not self.egress_proxied:
            return None
        admins = tuple(dict.fromkeys(c for g in self.instances for c in g.ssh_from))
        return InstanceGroup(
            name=EGRESS_GROUP, count=self.egress.instances, flavor="b2.c1r2",
            image=platform().guest_images_booted[0], network="default",
            boot_volume_size=DEFAULT_B2_BOOT_GB, volumes=(), ssh_from=admins,
            allow_from=tuple(Flow(instance=g.name, port=port, protocol=protocol)
                             for g in self.private_groups
                             for port, protocol in ((EGRESS_PORT, "tcp"), (123, "udp"))),
        )

    @cached_property
    def groups(self) -> tuple[InstanceGroup, ...]:
        """The spec's instance groups, the egress proxy when private groups need one, and the
        log collector when logging is central."""
        proxy = (self.egress_proxy,) if self.egress_proxy is not None else ()
        if not self.logging.central:
            return (*self.instances, *proxy)
        admins = tuple(dict.fromkeys(c for g in self.instances for c in g.ssh_from))
        collector = InstanceGroup(
            # The first image the VM suite boots the collector's configuration on.
            name=COLLECTOR_GROUP, count=1, flavor="b2.c2r4",
            image=platform().guest_images_booted[0],
            network="default", boot_volume_size=DEFAULT_B2_BOOT_GB,
            volumes=(Volume(name="logs", size=50, type="fast",
                            encryption="luks-tang" if self.tang_servers else "none",
                            mountpoint="/var/log/remote"),),
            ssh_from=admins,
            allow_from=tuple(Flow(instance=g.name, port=port, protocol="tcp")
                             for g in (*self.instances, *proxy)
                             for port in (COLLECTOR_PORT, RENEWAL_PORT)),
        )
        return (*self.instances, *proxy, collector)

    @cached_property
    def flows_from(self) -> dict[str, tuple[tuple[str, Flow], ...]]:
        """Group name -> (destination group, flow) for every `allow_from` that names it:
        the egress each group needs, indexed once instead of searched per group."""
        index: dict[str, list[tuple[str, Flow]]] = {}
        for destination in self.groups:
            for flow in destination.allow_from:
                index.setdefault(flow.instance, []).append((destination.name, flow))
        return {name: tuple(flows) for name, flows in index.items()}

    def group(self, name: str) -> InstanceGroup:
        return next(g for g in self.groups if g.name == name)


def build(data: dict[str, Any]) -> Spec:
    """Turn schema-defaulted, rule-checked data into the model."""
    section = data["data"]
    personal = section["personal"]
    special = section["special_categories"]
    retention = section["retention_days"]
    logging = data.get("logging", {})
    backup = data.get("backup")
    egress = data.get("egress", {})
    if backup is None and personal:
        # Backups are on by default for personal data, their counts fitted to the retention.
        backup = {"schedule": "daily", "keep": fitted_keep(KEEP_DEFAULTS, frozenset(), retention, 14),
                  "lock": {"days": 14}}
    return Spec(
        name=data["name"],
        description=data.get("description", ""),
        controller=data.get("controller"),
        contact=data.get("contact"),
        review_by=data.get("review_by"),
        personal=personal,
        special_categories=special,
        retention_days=retention,
        site=data["site"],
        backup_site=data.get("backup_site"),
        tang_servers=tuple(data.get("encryption", {}).get("tang_servers", ())),
        access=tuple(Access(**a) for a in data["access"]),
        break_glass=BreakGlass(**data["break_glass"]) if "break_glass" in data else None,
        instances=tuple(_group(g) for g in data["instances"]),
        endpoints=tuple(
            Endpoint(name=e["name"], hostname=e["hostname"], instance=e["instance"],
                     backend_port=e["backend_port"], certificate=e["certificate"],
                     min_tls=e.get("min_tls", "1.3" if special else "1.2"))
            for e in data["endpoints"]),
        buckets=tuple(
            Bucket(name=b["name"],
                   object_lock=ObjectLock(**b["object_lock"]) if "object_lock" in b else None,
                   retention_days=b.get("retention_days", retention), public=b["public"])
            for b in data["buckets"]),
        logging=Logging(central=logging.get("central", personal),
                        retention_days=logging["retention_days"] if logging else 180,
                        intrusion_detection=logging.get("intrusion_detection", personal)),
        backup=Backup(schedule=backup["schedule"],
                      keep=tuple((k, v) for k, v in backup["keep"].items() if v),
                      lock_mode=backup.get("lock", {}).get(
                          "mode", "COMPLIANCE" if personal else "GOVERNANCE"),
                      lock_days=backup.get("lock", {}).get("days", 14))
        if backup else None,
        egress=Egress(proxy=egress.get("proxy", "auto"), allow=tuple(egress.get("allow", ())),
                      instances=egress.get("instances", 2)),
        state=State(backend=data["state"]["backend"],
                    bucket=data["state"].get("bucket", f"tfstate-{data['name']}")),
    )


def _group(g: dict[str, Any]) -> InstanceGroup:
    boots_from_volume = platform().flavor_family(g["flavor"])["boot"] == "volume"
    return InstanceGroup(
        name=g["name"],
        count=g["count"],
        flavor=g["flavor"],
        image=g["image"],
        network=g["network"],
        boot_volume_size=g.get("boot_volume_size", DEFAULT_B2_BOOT_GB) if boots_from_volume else None,
        volumes=tuple(Volume(name=v["name"], size=v["size"], type=v["type"],
                             encryption=v["encryption"],
                             mountpoint=v.get("mountpoint", f"/srv/{v['name']}"))
                      for v in g["volumes"]),
        ssh_from=tuple(g["ssh_from"]),
        allow_from=tuple(Flow(**f) for f in g["allow_from"]),
    )
