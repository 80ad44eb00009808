"""The compliance report as typed, frozen data: what build() fills in and every output format
renders. No logic beyond the status vocabulary; the facts (facts.py), statuses (status.py),
notes (notes.py) and annex (annex.py) are made elsewhere from these types.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = 3

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


@dataclass(frozen=True)
class Evidence:
    """One finding as the report shows it: a check on one resource, or a lapse in the spec."""

    check_id: str
    check_name: str
    status: str  # passed | failed | skipped | open (not evidenced: a person must judge it)
    resource: str
    file: str
    line: int
    source: str  # "scan" (Checkov) | "spec" (the YAML the blueprint was made from)
    reason: str | None  # the written reason of a skip
    details: tuple[str, ...]


@dataclass(frozen=True)
class EvidenceGroup:
    """Findings of one check on the resources of one part of the deployment (an instance
    group, a bucket, the backups, the providers), as a DPO reads them: what was shown, on what,
    and the Terraform addresses folded underneath."""

    owner: str  # "instance group web", "bucket patient-portal-exports", "backups", ...
    check_id: str
    check_name: str
    status: str  # passed | failed | skipped | open
    details: tuple[str, ...]  # what the findings say, deduplicated (e.g. each login's last day)
    reasons: tuple[str, ...]  # written reasons of skips
    resources: tuple[str, ...]  # Terraform addresses
    places: tuple[str, ...]  # FILE:LINE


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
    by_owner: tuple[EvidenceGroup, ...] = ()  # the evidence grouped for reading


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
class Weakened:
    """What the spec turns off or lowers: the control it takes away or weakens, and the line."""

    control: str
    key: str  # the spec key, e.g. logging.central
    line: int  # 0: the key is not in the spec (its default leaves the measure off)
    message: str
    article: str
    level: str  # off: left out (FAIL with personal data) | lowered: weaker than the default


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
    retention_days: int | None  # a lifecycle rule expires current objects after this; None: none
    object_lock: str | None
    public: bool
    expiry: str  # how its data ends, in words (lifecycle, restic forget, never)
    personal: bool  # holds the personal data the deployment processes


@dataclass(frozen=True)
class AccessFacts:
    """An access entry as the report describes it."""

    name: str
    kind: str
    role: str
    expires: str
    days_left: int | None
    expired: bool
    logs_in_to: tuple[str, ...] = ()  # instance groups with an account of their own
    sudo: bool = False


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
    lock_mode: str = "COMPLIANCE"
    lock_days: int = 14
    noncurrent_days: int = 30
    keep_words: str = ""  # the oldest snapshot kept, in words ("12 months")
    longest_days: int = 0  # deleted data stays in backups at most this long (keep + prune + noncurrent)


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
    break_glass: tuple[str, str] | None = None  # (holder, last day) of the OpenStack key pair
    no_individual_logins: tuple[str, ...] = ()  # groups on images without per-person accounts


@dataclass(frozen=True)
class DeployedGroup:
    """An instance group as the state or plan shows it: its instances, and those that still run
    a guest configuration older than the blueprint's (or one nobody recorded)."""

    name: str
    instances: int
    waiting: int  # run another guest configuration than the blueprint's cloud-init file
    unknown: int  # created before their configuration was recorded: cannot be told
    differences: tuple[str, ...]  # what differs, as far as the repository's history says


@dataclass(frozen=True)
class Deployed:
    """What runs, read from a Terraform state or a plan's prior state; source None: neither was
    read, and the report describes the spec and the blueprint only."""

    source: str | None
    groups: tuple[DeployedGroup, ...]
    note: str

    @property
    def waiting(self) -> tuple[DeployedGroup, ...]:
        return tuple(g for g in self.groups if g.waiting or g.unknown)


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
class LifeRow:
    """One instance's one measure, as its latest self-check shows it."""

    instance: str
    group: str
    measure: str
    control: str
    status: str  # PASS | FAIL | NOT EVIDENCED
    checked_at: str | None
    last_ok: str | None
    why: str


@dataclass(frozen=True)
class Life:
    """What the evidence file shows, instance by instance."""

    source: str  # the file's name
    exported_at: str
    collector: str
    rows: tuple[LifeRow, ...]
    never_reported: tuple[str, ...]  # instances of the blueprint with no result in the file
    not_in_blueprint: tuple[str, ...]  # names in the file the blueprint does not have


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
    weakened: tuple[Weakened, ...]  # what the spec turns off or lowers
    provisions: tuple[ProvisionResult, ...]
    unassessed: tuple[Unassessed, ...]
    controls: tuple[ControlResult, ...]
    other_findings: tuple[Evidence, ...]  # built-in checks no control claims: failed and skipped
    other_passed: tuple[tuple[str, int], ...]  # built-in check id -> passed count
    annex: tuple[AnnexSection, ...]
    status_meaning: tuple[tuple[str, str], ...]
    deployed: Deployed | None = None  # None: no blueprint directory facts to compare
    life: Life | None = None  # None: no evidence file given (report --evidence)
