"""The facts of a blueprint the report states: what its directory says about itself, what the
spec says the deployment is, and when its measures are reviewed.

Plain data out (model.py), drawn from the spec model, the platform facts and the names the
renderer gives resources (generator/naming.py); the diagram, the notes and the annex are
written from these facts, never from the spec directly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path, PurePosixPath

from generator import naming
from generator.platform import platform
from generator.report.model import (
    AccessFacts,
    BackupFacts,
    BlueprintFacts,
    BucketFacts,
    Deployment,
    EgressFacts,
    EndpointFacts,
    GroupFacts,
    LoggingFacts,
    Review,
    SiteFacts,
    VolumeFacts,
)
from generator.spec.model import COLLECTOR_GROUP, COLLECTOR_PORT, Spec
from generator.write import find_spec as find_recorded_spec
from generator.write import read_manifest


def days_until(when: str, today: dt.date) -> int | None:
    """Days from `today` to the date `when` (negative: past), None when it is not a date."""
    try:
        return (dt.date.fromisoformat(when) - today).days
    except ValueError:
        return None


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def blueprint_facts(directory: Path, spec_path: Path | None) -> BlueprintFacts:
    """What the blueprint directory says about itself: its manifest, edits and spec hash."""
    manifest = read_manifest(directory)
    if manifest is None:
        return BlueprintFacts(directory=directory.name, manifest=False, generator_version=None,
                              spec_file=None, spec_sha256=None, spec_matches=None,
                              changed_files=(), missing_files=())
    spec = manifest.get("spec") or {}
    changed, missing = [], []
    for rel, digest in sorted(manifest["files"].items()):
        pure = PurePosixPath(str(rel))
        if pure.is_absolute() or ".." in pure.parts:
            continue  # a manifest never names such a path; do not follow it out of the directory
        path = directory / pure
        if not path.is_file():
            missing.append(str(pure))
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            changed.append(str(pure))
    recorded = spec.get("sha256") if isinstance(spec.get("sha256"), str) else None
    matches = None
    if spec_path is not None and recorded:
        matches = hashlib.sha256(spec_path.read_bytes()).hexdigest() == recorded
    return BlueprintFacts(
        directory=directory.name, manifest=True,
        generator_version=str(manifest.get("version")) if manifest.get("version") else None,
        spec_file=str(spec.get("file")) if spec.get("file") else None, spec_sha256=recorded,
        spec_matches=matches, changed_files=tuple(changed), missing_files=tuple(missing))


def find_spec(directory: Path) -> tuple[Path | None, tuple[str, ...]]:
    """The spec of a blueprint and, when none is found, every place looked at (`write`)."""
    return find_recorded_spec(directory)


def deployment(spec: Spec, today: dt.date) -> Deployment:
    """The spec as plain facts for the diagram and the annex."""
    from generator.features import backup as backup_capability
    from generator.features import logins as login_capability

    sites = platform().sites

    def site(name: str) -> SiteFacts:
        s = sites.get(name)
        return SiteFacts(name=name, city=s.city if s else "unknown", country=s.country if s else "?")

    endpoints_of: dict[str, list[str]] = {}
    for e in spec.endpoints:
        endpoints_of.setdefault(e.instance, []).append(e.hostname)
    groups = tuple(GroupFacts(
        name=g.name, count=g.count, flavor=g.flavor, image=g.image, network=g.network,
        storage=g.storage, boot_volume_gb=g.boot_volume_size,
        volumes=tuple(VolumeFacts(name=v.name, size_gb=v.size, type=v.type,
                                  encrypted=v.encryption == "luks-tang", mountpoint=v.mountpoint)
                      for v in g.volumes),
        ssh_from=g.ssh_from,
        inbound=tuple((f.instance, f.protocol, f.port) for f in g.allow_from),
        endpoints=tuple(sorted(endpoints_of.get(g.name, ()))),
        collector=g.name == COLLECTOR_GROUP,
        backed_up=backup_capability.backed_up(spec, g) and spec.backup_site is not None,
    ) for g in spec.groups)
    buckets = [BucketFacts(name=naming.bucket(spec.name, b.name), role="data", site=spec.site,
                           retention_days=b.retention_days,
                           object_lock=f"{b.object_lock.mode}, {b.object_lock.days} days"
                           if b.object_lock else None, public=b.public,
                           expiry=f"after {b.retention_days} days (lifecycle rule)",
                           personal=spec.personal) for b in spec.buckets]
    backed = tuple(g.name for g in groups if g.backed_up)
    backup = None
    if spec.backup is not None:
        bucket = backup_capability.bucket_name(spec) if backed else None
        _, keep_words = spec.backup.span
        backup = BackupFacts(schedule=spec.backup.schedule, keep=spec.backup.keep,
                             site=spec.backup_site, bucket=bucket, groups=backed,
                             lock_mode=spec.backup.lock_mode, lock_days=spec.backup.lock_days,
                             noncurrent_days=spec.backup.noncurrent_days, keep_words=keep_words,
                             longest_days=spec.backup.longest_days)
        if bucket and spec.backup_site:
            buckets.append(BucketFacts(
                name=bucket, role="backup", site=spec.backup_site, retention_days=None,
                object_lock=f"{spec.backup.lock_mode}, {spec.backup.lock_days} days",
                public=False, personal=spec.personal,
                expiry=(f"never by the storage: restic forget on the instances keeps snapshots "
                        f"up to {keep_words} old; deleted data is gone within "
                        f"{backup.longest_days} days")))
    state_bucket = spec.state.bucket if spec.state.backend == "s3" else None
    if state_bucket:
        buckets.append(BucketFacts(name=state_bucket, role="state", site=spec.site,
                                   retention_days=None, object_lock=None, public=False,
                                   expiry="never: the current Terraform state is kept on purpose",
                                   personal=False))
    logins: dict[str, list[str]] = {}
    for g in spec.groups:
        for login in login_capability.logins(spec, g):
            logins.setdefault(login.name, []).append(g.name)
    access = tuple(AccessFacts(name=a.name, kind=a.kind, role=a.role, expires=a.expires,
                               days_left=days_until(a.expires, today),
                               expired=(days_until(a.expires, today) or 0) < 0,
                               logs_in_to=tuple(logins.get(a.name, ())),
                               sudo=a.logs_in and a.role == "admin")
                   for a in spec.access)
    return Deployment(
        name=spec.name, description=spec.description, controller=spec.controller,
        contact=spec.contact, personal=spec.personal, special_categories=spec.special_categories,
        classification=spec.classification, retention_days=spec.retention_days,
        site=site(spec.site), backup_site=site(spec.backup_site) if spec.backup_site else None,
        tang_servers=spec.tang_servers, groups=groups,
        endpoints=tuple(EndpointFacts(name=e.name, hostname=e.hostname, instance=e.instance,
                                      backend_port=e.backend_port, certificate=e.certificate,
                                      min_tls=e.min_tls) for e in spec.endpoints),
        buckets=tuple(buckets), access=access,
        logging=LoggingFacts(central=spec.logging.central,
                             retention_days=spec.logging.retention_days,
                             intrusion_detection=spec.logging.intrusion_detection,
                             collector=COLLECTOR_GROUP if spec.logging.central else None,
                             port=COLLECTOR_PORT if spec.logging.central else None),
        backup=backup, state_backend=spec.state.backend, state_bucket=state_bucket,
        egress=_egress(spec),
        break_glass=(spec.break_glass.holder, spec.break_glass.expires)
        if spec.break_glass else None,
        no_individual_logins=tuple(g.name for g in spec.groups
                                   if g.image not in platform().guest_images))


def _egress(spec: Spec) -> EgressFacts | None:
    """The private network's way out (None when no group is on it)."""
    from generator.features import egress
    from generator.features.egress import REASONS

    if not spec.private_groups:
        return None
    proxy = spec.egress_proxy
    return EgressFacts(
        proxy=spec.egress.proxy, private_groups=tuple(g.name for g in spec.private_groups),
        proxy_group=proxy.name if proxy else None, proxy_instances=proxy.count if proxy else 0,
        allow=tuple((a.host, REASONS[a.reason]) for a in egress.allowed(spec)))


def review(review_by: str | None, today: dt.date) -> Review:
    """The review date against today: overdue is a failure of the review control."""
    if not review_by:
        return Review(None, None, False, "No review date is set (review_by): nothing says when "
                      "these measures are assessed again.")
    days = days_until(review_by, today)
    if days is None:
        return Review(review_by, None, False, f"The review date {review_by} is not a date.")
    if days < 0:
        return Review(review_by, days, True, f"REVIEW OVERDUE: the measures were due for review "
                      f"on {review_by}, {plural(-days, 'day')} before {today.isoformat()}.")
    return Review(review_by, days, False, f"Next review due on {review_by} "
                  f"(in {plural(days, 'day')}).")
