"""Scan findings + control catalogue + blueprint and spec facts -> one typed compliance report.

The report never claims more than the evidence shows. A control is PASS only when at least one
check produced a passed finding for a resource, none failed and the spec does not leave the
control's measure off; FAIL as soon as one finding failed, including a measure the spec leaves
off for personal data (that finding names the spec line); NOT APPLICABLE when its checks found
no resource of the kind they examine, or the spec declares no personal data and leaves the
measure off; NOT EVIDENCED when no check exists for it or every finding was skipped (a person
must assess it).
A GDPR provision takes the worst status of the controls that serve it, so a provision served by
an unevidenced control is never shown as passing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from generator import __version__
from generator.controls import Control, controls
from generator.platform import platform
from generator.scan import Finding, ScanResult, scan
from generator.spec import SpecError, check_file
from generator.spec.errors import Problem, format_path
from generator.spec.measures import MeasureOff, measures_off
from generator.spec.model import COLLECTOR_GROUP, COLLECTOR_PORT, Spec
from generator.write import find_spec as find_recorded_spec
from generator.write import read_manifest

SCHEMA_VERSION = 2

PASS = "PASS"
FAIL = "FAIL"
NOT_APPLICABLE = "NOT APPLICABLE"
NOT_EVIDENCED = "NOT EVIDENCED"
# Verdicts of the whole report: never "PASS", since some controls are always assessed by hand.
NO_FAILURES = "NO FAILURES FOUND"
INCOMPLETE = "INCOMPLETE"
STATUSES = (FAIL, NOT_EVIDENCED, PASS, NOT_APPLICABLE)  # worst first

# What each status means, printed in every output format so nobody reads more into it.
STATUS_MEANING = {
    PASS: "at least one check passed on a resource of this blueprint, none failed, and the spec "
          "does not leave the control's measure off",
    FAIL: "at least one check failed on a resource, or the spec shows a lapse (an overdue or "
          "missing review date, expired access), or the spec declares personal data and "
          "leaves the control's measure off (the finding names the spec line): fix it before "
          "relying on the control",
    NOT_EVIDENCED: "no machine check exists for the control, every check was skipped with a "
                   "written reason, a check could not tell (UNKNOWN: the finding says what would "
                   "make it known), or (with personal data) the checks found nothing to examine: "
                   "this report cannot show the control works, a person must assess it",
    NOT_APPLICABLE: "the spec declares no personal data, and either the control's checks found "
                    "no resource of the kind they examine (e.g. no data volumes) or the spec "
                    "leaves the control's measure off; with personal data the first is NOT "
                    "EVIDENCED and the second FAIL",
}

# Regulation (EU) 2016/679, paraphrased (shared/reference/GDPR.md): what each provision asks.
PROVISIONS: dict[str, str] = {
    "5(1)(c)": "data minimisation: adequate, relevant and limited to what is necessary",
    "5(1)(d)": "accuracy: accurate and kept up to date",
    "5(1)(e)": "storage limitation: kept identifiable no longer than necessary",
    "5(1)(f)": "integrity and confidentiality: appropriate security, including against "
               "unauthorised processing, loss, destruction or damage",
    "5(2)": "accountability: the controller must be able to demonstrate compliance",
    "9": "special categories (health, biometric, ...): processing prohibited unless an "
         "exception applies",
    "25(1)": "data protection by design: appropriate technical measures built into processing",
    "25(2)": "data protection by default: only the data necessary, not accessible to an "
             "indefinite number of people",
    "28(3)": "processor's contract, including assisting the controller with Art. 32-36",
    "30(1)(g)": "record of processing: a general description of the technical and "
                "organisational security measures",
    "32(1)(a)": "pseudonymisation and encryption of personal data",
    "32(1)(b)": "ongoing confidentiality, integrity, availability and resilience of processing "
                "systems and services",
    "32(1)(c)": "restore availability of and access to personal data in a timely manner after "
                "an incident",
    "32(1)(d)": "a process for regularly testing, assessing and evaluating the measures",
    "32(2)": "weigh the risks: accidental or unlawful destruction, loss, alteration, "
             "unauthorised disclosure or access",
    "44": "transfers to third countries only under the conditions of Chapter V",
}

# Provisions no infrastructure control can serve, and why the report leaves them to people.
UNASSESSED: dict[str, str] = {
    "5(1)(c)": "Which data is collected is decided by the application and the controller; "
               "infrastructure cannot show it.",
    "5(1)(d)": "Keeping data accurate is the application's and the controller's job.",
    "9": "Whether an Art. 9(2) exception applies is a legal assessment; the blueprint only "
         "raises the technical floor when the spec declares special categories.",
    "28(3)": "The processor's contract is the data processing agreement with Safespring, "
             "outside the blueprint.",
    "30(1)(g)": "The annex of this report is written as the general description of the "
                "technical measures; the record of processing itself is the controller's.",
    "32(2)": "The risk assessment that decides which measures are appropriate is the "
             "controller's.",
}


# ---- the model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """One finding as the report shows it: a check on one resource, or a lapse in the spec."""

    check_id: str
    check_name: str
    status: str  # passed | failed | unknown | skipped
    resource: str
    file: str
    line: int
    source: str  # "scan" (Checkov) | "spec" (the YAML the blueprint was made from)
    reason: str | None  # the written reason of a skip
    details: tuple[str, ...]


@dataclass(frozen=True)
class ControlResult:
    """One control of the catalogue, with its status and the findings behind it."""

    id: str
    title: str
    safespring: str
    articles: tuple[str, ...]
    safespring_citation: str | None  # what Safespring's GDPR page cites for the measure
    modules: tuple[str, ...]
    checks: tuple[str, ...]
    fails_with: tuple[str, ...]  # checks whose failure fails the control, whose pass is no evidence
    gaps: str
    status: str
    why: str
    passed: int
    failed: int
    skipped: int
    evidence: tuple[Evidence, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class ProvisionResult:
    """One GDPR provision and the status of the controls that serve it."""

    article: str
    label: str
    requirement: str
    status: str
    why: str
    controls: tuple[tuple[str, str], ...]  # (control id, its status)


@dataclass(frozen=True)
class Unassessed:
    """A provision no machine check can evidence, and why."""

    article: str
    label: str
    requirement: str
    why: str


@dataclass(frozen=True)
class Review:
    """Whether the measures' regular review (Art. 32(1)(d)) is due or overdue."""

    review_by: str | None
    days_left: int | None
    overdue: bool
    message: str


@dataclass(frozen=True)
class BlueprintFacts:
    """What the blueprint directory says about itself (manifest, generator, spec)."""

    directory: str
    manifest: bool
    generator_version: str | None
    spec_file: str | None
    spec_sha256: str | None
    spec_matches: bool | None  # the spec found now hashes as the manifest recorded
    changed_files: tuple[str, ...]
    missing_files: tuple[str, ...]


@dataclass(frozen=True)
class SpecIssue:
    """A problem with the spec, as the report shows it."""

    line: int
    column: int
    path: str
    message: str
    article: str | None


@dataclass(frozen=True)
class OffInSpec:
    """A measure the spec leaves off: the control it takes away and the spec line."""

    control: str
    key: str  # the spec key, e.g. logging.central
    line: int  # 0: the key is not in the spec (its default leaves the measure off)
    message: str
    article: str


@dataclass(frozen=True)
class SiteFacts:
    """A Safespring site where data is kept."""

    name: str
    city: str
    country: str


@dataclass(frozen=True)
class VolumeFacts:
    """A volume as the report describes it."""

    name: str
    size_gb: int
    type: str
    encrypted: bool
    mountpoint: str


@dataclass(frozen=True)
class GroupFacts:
    """An instance group as the report describes it."""

    name: str
    count: int
    flavor: str
    image: str
    network: str
    storage: str  # central-3-copy | local-single-copy
    boot_volume_gb: int | None
    volumes: tuple[VolumeFacts, ...]
    ssh_from: tuple[str, ...]
    inbound: tuple[tuple[str, str, int], ...]  # (from group, protocol, port)
    endpoints: tuple[str, ...]  # hostnames served on tcp 443
    collector: bool
    backed_up: bool


@dataclass(frozen=True)
class EndpointFacts:
    """A public endpoint as the report describes it."""

    name: str
    hostname: str
    instance: str
    backend_port: int
    certificate: str
    min_tls: str


@dataclass(frozen=True)
class BucketFacts:
    """A bucket (data, backup or state) as the report describes it."""

    name: str
    role: str  # data | backup | state
    site: str
    retention_days: int | None  # current objects expire after this; None: never
    object_lock: str | None
    public: bool


@dataclass(frozen=True)
class AccessFacts:
    """An access entry as the report describes it."""

    name: str
    kind: str
    role: str
    expires: str
    days_left: int | None
    expired: bool


@dataclass(frozen=True)
class EgressFacts:
    """How the private network's groups reach the outside, and the proxy's allow-list."""

    proxy: str  # auto | none
    private_groups: tuple[str, ...]
    proxy_group: str | None
    proxy_instances: int
    allow: tuple[tuple[str, str], ...]  # (host, why)


@dataclass(frozen=True)
class LoggingFacts:
    """Log management as the report describes it."""

    central: bool
    retention_days: int
    intrusion_detection: bool
    collector: str | None
    port: int | None


@dataclass(frozen=True)
class BackupFacts:
    """Backups as the report describes them."""

    schedule: str
    keep: tuple[tuple[str, int], ...]
    site: str | None
    bucket: str | None
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Deployment:
    """What the spec says the deployment is: the diagram and the annex are drawn from this."""

    name: str
    description: str
    controller: str | None
    contact: str | None
    personal: bool
    special_categories: bool
    classification: str
    retention_days: int
    site: SiteFacts
    backup_site: SiteFacts | None
    tang_servers: tuple[str, ...]
    groups: tuple[GroupFacts, ...]
    endpoints: tuple[EndpointFacts, ...]
    buckets: tuple[BucketFacts, ...]
    access: tuple[AccessFacts, ...]
    logging: LoggingFacts
    backup: BackupFacts | None
    state_backend: str
    state_bucket: str | None
    egress: EgressFacts | None = None


@dataclass(frozen=True)
class AnnexSection:
    """One section of the records-of-processing annex (Art. 30(1)(g))."""

    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Summary:
    """Counts by status, for the report's headline."""

    controls: tuple[tuple[str, int], ...]  # status -> count, in STATUSES order
    provisions: tuple[tuple[str, int], ...]
    findings_passed: int
    findings_failed: int
    findings_skipped: int
    findings_unknown: int = 0


@dataclass(frozen=True)
class Report:
    """The whole compliance report: what the Markdown, JSON and HTML forms render."""

    schema: int
    generator_version: str
    today: str
    name: str
    verdict: str
    verdict_why: tuple[str, ...]
    summary: Summary
    review: Review
    blueprint: BlueprintFacts
    spec_status: str  # ok | missing | invalid | unreadable
    spec_issues: tuple[SpecIssue, ...]
    deployment: Deployment | None
    off_in_spec: tuple[OffInSpec, ...]  # measures the spec leaves off
    provisions: tuple[ProvisionResult, ...]
    unassessed: tuple[Unassessed, ...]
    controls: tuple[ControlResult, ...]
    other_findings: tuple[Evidence, ...]  # built-in checks no control claims: failed and skipped
    other_passed: tuple[tuple[str, int], ...]  # built-in check id -> passed count
    annex: tuple[AnnexSection, ...]
    status_meaning: tuple[tuple[str, str], ...]


# ---- helpers -------------------------------------------------------------------------------


def article_key(article: str) -> tuple:
    """Sort `5(1)(e)` < `5(2)` < `25(1)` < `32(1)(a)` < `44` as the Regulation numbers them."""
    parts = re.findall(r"[0-9]+|[a-z]+", article)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def label(article: str) -> str:
    return f"Art. {article}"


def _evidence(f: Finding) -> Evidence:
    return Evidence(check_id=f.check_id, check_name=f.check_name, status=f.status,
                    resource=f.resource, file=f.file, line=f.line, source="scan",
                    reason=f.skip_reason, details=tuple(f.details))


_STATUS_ORDER = {"failed": 0, "unknown": 1, "skipped": 2, "passed": 3}


def _sort_evidence(items: list[Evidence]) -> tuple[Evidence, ...]:
    return tuple(sorted(set(items), key=lambda e: (_STATUS_ORDER[e.status], e.source, e.check_id,
                                                     e.resource, e.file, e.line)))


def _days(when: str, today: dt.date) -> int | None:
    try:
        return (dt.date.fromisoformat(when) - today).days
    except ValueError:
        return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ---- blueprint and spec --------------------------------------------------------------------


def _blueprint_facts(directory: Path, spec_path: Path | None) -> BlueprintFacts:
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


def _where_in_spec(m: MeasureOff) -> str:
    return f"{format_path(m.path)} (line {m.line})" if m.present else (
        f"{format_path(m.path)} (not in the spec)")


def _issue(p: Problem) -> SpecIssue:
    return SpecIssue(line=p.line, column=p.column, path=format_path(p.path), message=p.message,
                     article=p.article)


@dataclass(frozen=True)
class LoadedFacts:
    """The spec as the report reads it: model, status, problems and the measures it leaves out."""

    spec: Spec | None
    status: str  # ok | invalid | unreadable
    issues: tuple[SpecIssue, ...]
    measures_off: tuple[MeasureOff, ...]


def load_spec(path: Path, today: dt.date) -> LoadedFacts:
    """The spec model, what is wrong with it today and which measures it leaves off.

    Rules compare dates with `today`, so a blueprint whose access has since expired no longer
    validates; the report still wants its facts (and to flag the expiry), so on a rule failure
    the model is built from the schema-valid data and the problems are reported.
    """
    try:
        checked = check_file(path, today)
        return LoadedFacts(checked.spec, "ok", (), checked.measures_off)
    except SpecError as err:
        issues = tuple(_issue(p) for p in err.problems)
    except (OSError, ValueError) as err:
        return LoadedFacts(None, "unreadable", (SpecIssue(0, 0, "(document)", str(err), None),), ())
    from generator.spec.load import load_file
    from generator.spec.model import build as build_model
    from generator.spec.schema import apply_defaults, validate

    try:
        loaded = load_file(path)
        if validate(loaded):
            return LoadedFacts(None, "invalid", issues, ())
        model = build_model(apply_defaults(loaded.data))
        return LoadedFacts(model, "invalid", issues, measures_off(model, loaded.positions))
    except Exception:  # a spec the model cannot hold: report it, do not guess
        return LoadedFacts(None, "invalid", issues, ())


def deployment(spec: Spec, today: dt.date) -> Deployment:
    """The spec as plain facts for the diagram and the annex."""
    from generator.capabilities import backup as backup_capability

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
    buckets = [BucketFacts(name=f"{spec.name}-{b.name}", role="data", site=spec.site,
                           retention_days=b.retention_days,
                           object_lock=f"{b.object_lock.mode}, {b.object_lock.days} days"
                           if b.object_lock else None, public=b.public) for b in spec.buckets]
    backed = tuple(g.name for g in groups if g.backed_up)
    backup = None
    if spec.backup is not None:
        bucket = backup_capability.bucket_name(spec) if backed else None
        backup = BackupFacts(schedule=spec.backup.schedule, keep=spec.backup.keep,
                             site=spec.backup_site, bucket=bucket, groups=backed)
        if bucket and spec.backup_site:
            buckets.append(BucketFacts(name=bucket, role="backup", site=spec.backup_site,
                                       retention_days=None, object_lock="Object Lock",
                                       public=False))
    state_bucket = spec.state.bucket if spec.state.backend == "s3" else None
    if state_bucket:
        buckets.append(BucketFacts(name=state_bucket, role="state", site=spec.site,
                                   retention_days=None, object_lock=None, public=False))
    access = tuple(AccessFacts(name=a.name, kind=a.kind, role=a.role, expires=a.expires,
                               days_left=_days(a.expires, today),
                               expired=(_days(a.expires, today) or 0) < 0)
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
        egress=_egress(spec))


def _egress(spec: Spec) -> EgressFacts | None:
    """The private network's way out (None when no group is on it)."""
    from generator.capabilities import egress
    from generator.guest.egress import REASONS

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
    days = _days(review_by, today)
    if days is None:
        return Review(review_by, None, False, f"The review date {review_by} is not a date.")
    if days < 0:
        return Review(review_by, days, True, f"REVIEW OVERDUE: the measures were due for review "
                      f"on {review_by}, {_plural(-days, 'day')} before {today.isoformat()}.")
    return Review(review_by, days, False, f"Next review due on {review_by} "
                  f"(in {_plural(days, 'day')}).")


# ---- per-control notes from the spec -------------------------------------------------------


def _notes(d: Deployment | None, rev: Review) -> dict[str, tuple[str, ...]]:
    """Spec facts a reader needs next to a control. Context only: they never make it pass."""
    out: dict[str, tuple[str, ...]] = {"GDPR-REV-1": (rev.message,)}
    if d is None:
        return out
    lg = d.logging
    out["GDPR-LOG-1"] = (
        f"The spec keeps logs on every instance for {lg.retention_days} days"
        + (f" and ships them to the {lg.collector} group over TLS (port {lg.port})"
           if lg.central else ", without a central collector")
        + ("; auditd and AIDE run on every instance." if lg.intrusion_detection
           else "; intrusion detection is off."),
    )
    people = [f"{a.name} ({a.kind}, {a.role}, until {a.expires}"
              + (", EXPIRED)" if a.expired else ")") for a in d.access]
    out["GDPR-ACC-1"] = ((f"Access named in the spec: {'; '.join(people)}."
                          if people else "The spec names no access."),)
    apps = [a for a in d.access if a.kind == "application"]
    if apps:
        out["GDPR-ACC-1"] += (
            f"The secret of the application credential{'s' if len(apps) > 1 else ''} "
            + ", ".join(f"{a.name} (until {a.expires})" for a in apps)
            + f" is stored in the Terraform state, {_state_location(d)}: whoever can read the "
            "state can act as that application until the credential expires.",)
    world = [f"{e.hostname} (tcp 443 on {e.instance})" for e in d.endpoints]
    ssh = sorted({c for g in d.groups for c in g.ssh_from})
    out["GDPR-ACC-2"] = (
        f"Open to the whole internet: {', '.join(world) if world else 'nothing'}.",
        f"SSH (tcp 22) only from: {', '.join(ssh) if ssh else 'nowhere'}.",
    )
    vols = [(g.name, v) for g in d.groups for v in g.volumes]
    plain = [f"{g}/{v.name}" for g, v in vols if not v.encrypted]
    out["GDPR-ENC-1"] = (
        f"{len(vols) - len(plain)} of {len(vols)} data volumes are encrypted in the guest "
        "(LUKS2, keys through Tang)"
        + (f"; NOT encrypted in the guest: {', '.join(plain)}." if plain else "."),
    )
    out["GDPR-ENC-2"] = tuple(f"{e.hostname}: TLS {e.min_tls} or newer, certificate "
                              f"{e.certificate}." for e in d.endpoints) or (
        "No TLS endpoint is declared.",)
    if d.backup and d.backup.bucket:
        keep = ", ".join(f"{n} {k}" for k, n in d.backup.keep)
        out["GDPR-BAK-1"] = (f"Backups {d.backup.schedule} of {', '.join(d.backup.groups)} to "
                             f"{d.backup.bucket} on {d.backup.site}; keeps {keep}.",)
    else:
        out["GDPR-BAK-1"] = ("The spec generates no backup job.",)
    data = [b.name for b in d.buckets if b.role == "data"]
    if data:
        out["GDPR-BAK-1"] += (
            f"Not backed up, and not copied to another site: {', '.join(data)}. Versioning keeps "
            f"earlier versions on {d.site.name} only; Safespring Storage has no replication.",)
    local = [g.name for g in d.groups if g.storage != "central-3-copy"]
    out["GDPR-RED-1"] = ((f"On local single-copy disks: {', '.join(local)}."
                          if local else "Every group boots from central three-copy storage."),)
    sites = [d.site] + ([d.backup_site] if d.backup_site else [])
    out["GDPR-RES-1"] = ("Sites: " + ", ".join(f"{s.name} ({s.city}, {s.country})"
                                               for s in sites) + ".",)
    out["GDPR-LIM-1"] = tuple(
        f"{b.name}: current objects expire after {b.retention_days} days."
        for b in d.buckets if b.retention_days is not None) or ("No data bucket is declared.",)
    return out


def _state_location(d: Deployment) -> str:
    if d.state_bucket:
        return (f"in the bucket {d.state_bucket} on {d.site.name} (private, TLS-only, versioned; "
                "replaced versions are kept for a while)")
    return "in the local file terraform.tfstate on the machine that runs Terraform"


# ---- statuses ------------------------------------------------------------------------------


def _control_result(c: Control, evidence: list[Evidence], notes: tuple[str, ...],
                    personal: bool | None, off: list[MeasureOff]) -> ControlResult:
    ev = _sort_evidence(evidence)
    passed = sum(e.status == "passed" for e in ev)
    failed = sum(e.status == "failed" for e in ev)
    skipped = sum(e.status == "skipped" for e in ev)
    unknown = sum(e.status == "unknown" for e in ev)
    if failed:
        status = FAIL
        from_spec = [e for e in ev if e.status == "failed" and e.source == "spec"]
        parts = [f"{_plural(failed - len(from_spec), 'check finding')} failed"] if (
            failed > len(from_spec)) else []
        by_name: dict[str, list[str]] = {}
        for e in from_spec:
            by_name.setdefault(e.check_name, []).append(
                f"{e.resource} (line {e.line})" if e.line else e.resource)
        parts += [f"{name}: {', '.join(where)}" for name, where in by_name.items()]
        why = "Failed: " + "; ".join(parts) + "."
    elif off and personal is False:
        status = NOT_APPLICABLE
        why = ("The spec declares no personal data and leaves this measure off: "
               + "; ".join(_where_in_spec(m) for m in off) + ".")
    elif unknown:
        # What a check could not tell is no evidence either way: a person must look.
        status = NOT_EVIDENCED
        why = (f"{_plural(unknown, 'check finding')} could not be judged (UNKNOWN; each says what "
               f"would make it known); {passed} passed, none failed.")
    elif passed:
        status = PASS
        resources = len({e.resource for e in ev if e.status == "passed"})
        why = (f"{_plural(passed, 'check result')} passed on {_plural(resources, 'resource')}, "
               "none failed" + (f"; {skipped} skipped with a reason." if skipped else "."))
    elif not c.checks:
        status = NOT_EVIDENCED
        why = "No machine check exists for this control: a person must assess it."
    elif skipped:
        status = NOT_EVIDENCED
        why = "Every finding was skipped with a written reason; nothing passed."
    elif personal is False:
        status = NOT_APPLICABLE
        why = (f"The checks ({', '.join(c.checks)}) found no resource they examine in this "
               "blueprint, and the spec declares no personal data.")
    else:
        # Personal data (or an unknown spec) without the resources the checks look for is a
        # question for a person, not a sign the control does not matter.
        status = NOT_EVIDENCED
        why = (f"The checks ({', '.join(c.checks)}) found no resource they examine in this "
               "blueprint; the deployment "
               + ("holds personal data" if personal else "may hold personal data (no spec)")
               + ", so a person must decide whether it needs such resources.")
    return ControlResult(
        id=c.id, title=c.title, safespring=c.safespring, articles=c.articles,
        safespring_citation=c.seed_citation, modules=c.modules, checks=c.checks,
        fails_with=c.fails_with, gaps=c.gaps,
        status=status, why=why, passed=passed, failed=failed, skipped=skipped, evidence=ev,
        notes=notes)


def _provision(article: str, results: list[ControlResult]) -> ProvisionResult:
    statuses = [r.status for r in results]
    pairs = tuple((r.id, r.status) for r in results)
    if FAIL in statuses:
        status = FAIL
        why = "Failed: " + ", ".join(r.id for r in results if r.status == FAIL) + "."
    elif NOT_EVIDENCED in statuses:
        status = NOT_EVIDENCED
        ok = sum(s == PASS for s in statuses)
        why = (f"{ok} of {len(results)} controls evidenced; not evidenced: "
               + ", ".join(r.id for r in results if r.status == NOT_EVIDENCED) + ".")
    elif PASS in statuses:
        status = PASS
        why = "Every applicable control passed: " + ", ".join(
            r.id for r in results if r.status == PASS) + "."
    else:
        status = NOT_APPLICABLE
        why = "No control serving it applies to this blueprint."
    return ProvisionResult(article=article, label=label(article),
                           requirement=PROVISIONS.get(article, ""), status=status, why=why,
                           controls=pairs)


def _spec_evidence(issues: tuple[SpecIssue, ...], rev: Review, spec_file: str,
                   off: tuple[MeasureOff, ...], personal: bool | None,
                   ) -> dict[str, list[Evidence]]:
    """Lapses in the spec that are evidence against a control (expired access, overdue review)
    and, with personal data, every measure the spec leaves off."""
    out: dict[str, list[Evidence]] = {}
    if personal:
        for m in off:
            out.setdefault(m.control, []).append(Evidence(
                check_id="SPEC", check_name="measure off in the spec", status="failed",
                resource=format_path(m.path), file=spec_file, line=m.line if m.present else 0,
                source="spec",
                reason=None, details=(f"{m.message} ({m.article})",)))
    for i in issues:
        if i.path.startswith("access"):
            out.setdefault("GDPR-ACC-1", []).append(Evidence(
                check_id="SPEC", check_name="access in the spec is current", status="failed",
                resource=i.path, file=spec_file, line=i.line, source="spec", reason=None,
                details=(i.message,)))
    if rev.overdue:
        out.setdefault("GDPR-REV-1", []).append(Evidence(
            check_id="SPEC", check_name="the review date has not passed", status="failed",
            resource="review_by", file=spec_file, line=0, source="spec", reason=None,
            details=(rev.message,)))
    return out


# ---- build ---------------------------------------------------------------------------------


def build(directory: str | Path, spec_path: str | Path | None = None, *,
          today: dt.date, result: ScanResult | None = None) -> Report:
    """The compliance report of the blueprint in `directory` (scanned unless `result` is given).

    The spec is `spec_path`, else the manifest's spec file or `<DIR>.yaml` next to the
    directory; when none is found the report says so and leaves out what only the spec knows.
    """
    from generator.report.annex import annex

    root = Path(directory).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"not a directory: {root}")
    if spec_path is not None:
        found: Path | None = Path(spec_path)
        tried: tuple[str, ...] = (str(spec_path),)
        if not found.is_file():
            found = None
    else:
        found, tried = find_spec(root)
    facts = _blueprint_facts(root, found)
    off: tuple[MeasureOff, ...] = ()
    if found is None:
        spec, spec_status = None, "missing"
        issues: tuple[SpecIssue, ...] = (SpecIssue(
            0, 0, "(document)", "no spec found (looked for " + ", ".join(tried) + "); the "
            "diagram, the annex and the review date need it", None),)
    else:
        facts_of_spec = load_spec(found, today)
        spec, spec_status = facts_of_spec.spec, facts_of_spec.status
        issues, off = facts_of_spec.issues, facts_of_spec.measures_off
    dep = deployment(spec, today) if spec else None
    rev = review(spec.review_by if spec else None, today)
    if spec is None:
        rev = Review(None, None, False, "Unknown: the spec could not be read, so the review "
                     "date is not known.")

    result = result if result is not None else scan(root)
    by_control: dict[str, list[Evidence]] = {}
    other: list[Evidence] = []
    other_passed: dict[str, int] = {}
    for f in result.findings:
        # Mapped through the catalogue of this process, not the ids the scan recorded, so a
        # scan result from elsewhere cannot disagree with the control list printed.
        claimed = [c.id for c in controls() if f.check_id in c.checks
                   or (f.status == "failed" and f.check_id in c.fails_with)]
        if claimed:
            for cid in claimed:
                by_control.setdefault(cid, []).append(_evidence(f))
        elif f.status == "passed":
            other_passed[f.check_id] = other_passed.get(f.check_id, 0) + 1
        else:
            other.append(_evidence(f))
    spec_file = found.name if found else ""
    personal = dep.personal if dep else None
    for cid, items in _spec_evidence(issues, rev, spec_file, off, personal).items():
        by_control.setdefault(cid, []).extend(items)

    notes = _notes(dep, rev)
    results = [_control_result(c, by_control.get(c.id, []), notes.get(c.id, ()), personal,
                               [m for m in off if m.control == c.id])
               for c in controls()]
    served: dict[str, list[ControlResult]] = {}
    for r in results:
        for a in r.articles:
            served.setdefault(a, []).append(r)
    provisions = tuple(_provision(a, served[a]) for a in sorted(served, key=article_key))
    unassessed = tuple(Unassessed(article=a, label=label(a), requirement=PROVISIONS[a], why=why)
                       for a, why in sorted(UNASSESSED.items(), key=lambda kv: article_key(kv[0]))
                       if a not in served)

    other_ev = _sort_evidence(other)
    reasons: list[str] = []
    failed_controls = [r.id for r in results if r.status == FAIL]
    if failed_controls:
        reasons.append("Controls failed: " + ", ".join(failed_controls) + ".")
    if off and personal:
        reasons.append("Measures off in the spec, which declares personal data: "
                       + ", ".join(_where_in_spec(m) for m in off) + ".")
    other_failed = sorted({e.check_id for e in other_ev if e.status == "failed"})
    if other_failed:
        reasons.append("Checks outside the catalogue failed: " + ", ".join(other_failed) + ".")
    if rev.overdue:
        reasons.append(rev.message)
    if spec_status == "invalid":
        reasons.append("The spec does not pass its rules today (see the spec problems).")
    verdict = FAIL if reasons else INCOMPLETE if spec_status != "ok" else NO_FAILURES
    if verdict == INCOMPLETE:
        reasons.append("The spec was not found or could not be read: the review date, access "
                       "and the deployment facts are unknown.")
    if verdict != FAIL:
        missing = [r.id for r in results if r.status == NOT_EVIDENCED]
        reasons.append("No check failed. " + (
            "Not evidenced by any check (assess by hand): " + ", ".join(missing) + "."
            if missing else "Every control with checks is evidenced."))
    if facts.changed_files or facts.missing_files:
        reasons.append("Files changed since generation: "
                       + ", ".join([*facts.changed_files, *facts.missing_files])
                       + ". The scan reflects the files as they are now.")
    if facts.spec_matches is False:
        reasons.append("The spec changed after the blueprint was generated: the diagram and "
                       "annex describe the spec, the scan describes the blueprint.")

    count = {s: sum(r.status == s for r in results) for s in STATUSES}
    pcount = {s: sum(p.status == s for p in provisions) for s in STATUSES}
    summary = Summary(controls=tuple(count.items()), provisions=tuple(pcount.items()),
                      findings_passed=result.summary.passed,
                      findings_failed=result.summary.failed,
                      findings_skipped=result.summary.skipped,
                      findings_unknown=result.summary.unknown)
    return Report(
        schema=SCHEMA_VERSION, generator_version=__version__, today=today.isoformat(),
        name=dep.name if dep else root.name, verdict=verdict, verdict_why=tuple(reasons),
        summary=summary, review=rev, blueprint=facts, spec_status=spec_status,
        spec_issues=issues, deployment=dep,
        off_in_spec=tuple(OffInSpec(m.control, format_path(m.path), m.line if m.present else 0,
                                       m.message, m.article) for m in off),
        provisions=provisions, unassessed=unassessed,
        controls=tuple(results), other_findings=other_ev,
        other_passed=tuple(sorted(other_passed.items())),
        annex=annex(dep, rev, today) if dep else (),
        status_meaning=tuple((s, STATUS_MEANING[s]) for s in STATUSES))


__all__ = ["FAIL", "NOT_APPLICABLE", "NOT_EVIDENCED", "PASS", "Report", "build",
           "find_spec", "load_spec"]
