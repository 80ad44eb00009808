"""The annex: the technical measures in prose a DPO can put into the record of processing.

Art. 30(1)(g) asks the record to hold, where possible, a general description of the Art. 32(1)
technical and organisational measures. Every sentence here is written from the spec and
platform facts of this deployment (what is encrypted how, where data lives, who has access
until when, retention, backups, logging), so it changes when the deployment does. The text is
plain; each output format escapes it.
"""

from __future__ import annotations

import datetime as dt

from generator.platform import platform
from generator.report.model import (
    AnnexSection,
    Deployed,
    Deployment,
    GroupFacts,
    Review,
    SiteFacts,
)
from generator.report.notes import lock_sentence


def _list(items: list[str]) -> str:
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _group(g: GroupFacts) -> str:
    return f"{g.name} ({_n(g.count, 'instance')})"


def _purpose(d: Deployment) -> AnnexSection:
    kind = ("personal data including special categories of personal data (Art. 9)"
            if d.special_categories else "personal data" if d.personal
            else "no personal data (the spec declares none)")
    who = f"The controller is {d.controller}" if d.controller else "The spec names no controller"
    contact = f", contact {d.contact}" if d.contact else ""
    text = [f"Deployment {d.name}" + (f": {d.description}." if d.description else "."),
            f"{who}{contact}. The spec classifies the data as {kind}; every resource carries the "
            f"classification {d.classification} as a tag."]
    return AnnexSection("Processing and classification", tuple(text))


def _location(d: Deployment) -> AnnexSection:
    def where(site: SiteFacts) -> str:
        return f"{site.name} in {site.city} ({site.country})"

    sites = {d.site.name: d.site, **({d.backup_site.name: d.backup_site} if d.backup_site else {})}
    text = ["Everything runs on the OpenStack compute and S3-compatible storage of Safespring, a "
            "Swedish provider acting as processor. Where each resource is kept:"]
    groups = [f"{g.name} ({_n(g.count, 'instance')}"
              + (f", with {'volume' if len(g.volumes) == 1 else 'volumes'} "
                 f"{_list([v.name for v in g.volumes])}" if g.volumes else "") + ")"
              for g in d.groups]
    if groups:
        text.append(f"Instances with their disks and data volumes, on Safespring's site "
                    f"{where(d.site)}: {_list(groups)}.")
    role = {"data": "data", "backup": "backups", "state": "Terraform state"}
    buckets = [f"{b.name} ({role.get(b.role, b.role)}) on {where(sites[b.site])}"
               if b.site in sites else f"{b.name} ({role.get(b.role, b.role)}) on {b.site}"
               for b in d.buckets]
    if buckets:
        text.append(f"Buckets on Safespring Storage: {_list(buckets)}.")
    if d.state_backend == "local":
        text.append("The Terraform state is a local file on the machine that runs Terraform "
                    "(state.backend: local), not on Safespring; it holds every attribute of the "
                    "resources, including secrets such as application credentials.")
    if d.backup and d.backup.bucket and d.backup_site:
        text.append(f"The backups of the data volumes go to a second Safespring site, "
                    f"{where(d.backup_site)}, so a site-wide incident does not take those "
                    "volumes and their backups together.")
    text.append("The Terraform providers point only at Safespring endpoints; the infrastructure "
                "itself transfers no personal data to a third country (Art. 44).")
    if d.tang_servers:
        text.append("The encryption keys of the data volumes are released by the controller's "
                    f"own Tang servers ({_list(list(d.tang_servers))}); where those run is the "
                    "controller's decision and belongs in this record too.")
    return AnnexSection("Where the data is stored", tuple(text))


def _encryption(d: Deployment) -> AnnexSection:
    text = ["At rest, Safespring encrypts every disk in its data centres and holds those keys "
            "(Safespring's GDPR page on safespring.com, \"Data Encryption\")."]
    vols = [(g, v) for g in d.groups for v in g.volumes]
    enc = [f"{g.name}/{v.name} ({v.size_gb} GB, mounted at {v.mountpoint})"
           for g, v in vols if v.encrypted]
    plain = [f"{g.name}/{v.name}" for g, v in vols if not v.encrypted]
    if enc:
        text.append(f"In addition, the data {'volume' if len(enc) == 1 else 'volumes'} "
                    f"{_list(enc)} {'is' if len(enc) == 1 else 'are'} encrypted inside the "
                    "instance with LUKS2; the key is bound with Clevis to the controller's Tang "
                    "servers, so neither Safespring nor a copy of the volume can read the data "
                    "without them (Art. 32(1)(a)).")
    if plain:
        text.append(f"NOT encrypted inside the instance: {_list(plain)}; these rely on the "
                    "platform's disk encryption only.")
    if not vols:
        text.append("The deployment has no data volumes.")
    text.append("Boot volumes and local instance disks are not encrypted inside the instance: "
                "personal data belongs on the data volumes.")
    if d.backup and d.backup.bucket:
        text.append("Backups are encrypted on the instance by restic before upload; the "
                    "repository password exists only as a Clevis JWE bound to the Tang servers.")
    data = [b.name for b in d.buckets if b.role == "data"]
    if data:
        text.append(f"The bucket{'s' if len(data) > 1 else ''} {_list(data)} "
                    f"{'has' if len(data) == 1 else 'have'} no server-side encryption with "
                    "customer keys (Safespring Storage offers no SSE-S3 or SSE-KMS, "
                    "docs.safespring.com/storage/s3-compatibility/); objects are protected by "
                    "the platform's disk encryption only, unless the application encrypts them "
                    "before upload. Nothing in the blueprint does that or enforces it.")
    transit = [f"{e.hostname} (served by {e.instance}, TLS {e.min_tls} or newer, "
               f"{'ACME' if e.certificate == 'acme' else e.certificate} certificate)"
               for e in d.endpoints]
    if transit:
        text.append(f"In transit, the service is reached over HTTPS only: {_list(transit)}. TLS "
                    "ends on the instances (Safespring has no load-balancer service).")
    text.append("Every bucket refuses requests that do not arrive over TLS.")
    if d.logging.central:
        text.append(f"Logs travel to the collector over mutually authenticated TLS (port "
                    f"{d.logging.port}).")
    return AnnexSection("Encryption", tuple(text))


def _network(d: Deployment) -> AnnexSection:
    text = ["Each instance group has its own security group, created without OpenStack's "
            "default rules; every rule names its source or destination. Nothing is open that "
            "the spec does not open."]
    world = [f"tcp 443 on {g.name} for {_list(list(g.endpoints))}" for g in d.groups if g.endpoints]
    text.append(f"Open to the whole internet: {_list(world)}." if world
                else "Nothing is open to the whole internet.")
    ssh = [f"{g.name} from {_list(list(g.ssh_from))}" for g in d.groups if g.ssh_from]
    text.append(f"SSH (key only) is allowed to {'; '.join(ssh)}." if ssh
                else "SSH is not open from anywhere.")
    flows = [f"{src} to {g.name} on {proto} {port}" for g in d.groups
             for src, proto, port in g.inbound]
    if flows:
        text.append(f"Between the groups: {_list(flows)}.")
    return AnnexSection("Network access", tuple(text))


def _egress(d: Deployment) -> AnnexSection | None:
    e = d.egress
    if e is None:
        return None
    groups = _list(list(e.private_groups))
    if e.proxy_group is None:
        return AnnexSection("Egress from the private network", (
            f"{groups} {'is' if len(e.private_groups) == 1 else 'are'} on Safespring's private "
            "network, and the spec turns the egress proxy off (egress.proxy: none): their "
            "security groups allow outbound HTTP(S), DNS and NTP to any address, so nothing "
            "limits where data from them can go.",))
    hosts = _list([f"{host} ({why})" for host, why in e.allow])
    return AnnexSection("Egress from the private network", (
        f"{groups} {'is' if len(e.private_groups) == 1 else 'are'} on Safespring's private "
        f"network. Their security groups allow no outbound traffic to the internet: only to the "
        f"egress proxy {e.proxy_group} ({_n(e.proxy_instances, 'instance')} on the default "
        f"network), to the other groups of this deployment as listed under network access, and "
        f"to the OpenStack metadata service. Packages, the Tang servers, backups and the time "
        f"reach them through the proxy.",
        f"The proxy (Squid) lets requests through to these hosts only: {hosts}. It refuses "
        f"every other destination, caches nothing, and logs every request, refused ones too, "
        f"to the log collector.",
    ))


def _access(d: Deployment, today: dt.date) -> AnnexSection:
    limit = platform().max_access_days
    text = [f"Access is granted per person and per application, each with an end date at most "
            f"{limit} days ahead; people's credentials live in clouds.yaml and the environment, "
            "never in the Terraform files."]
    rows = []
    for a in d.access:
        when = f"until {a.expires}"
        if a.expired:
            when += f" (EXPIRED {-(a.days_left or 0)} days before {today.isoformat()}: remove it)"
        login = (f"; an instance account on {_list(list(a.logs_in_to))}"
                 + (" with sudo" if a.sudo else "") if a.logs_in_to else "")
        rows.append(f"{a.name} ({a.kind}, role {a.role}) {when}{login}")
    if rows:
        text.append(f"Access granted by the spec: {'; '.join(rows)}.")
    else:
        text.append("The spec names nobody with access.")
    if any(a.logs_in_to for a in d.access):
        text.append("On the instances each person with an SSH key in the spec has an account of "
                    "their own (admins on every group, with sudo; members on the deployment's "
                    "own groups, without). The account expires the day after the person's access "
                    "ends and the instance refuses it from then on, whatever key is offered; the "
                    "key itself, in a file the person cannot edit, carries the same end date.")
    else:
        text.append("Nobody has a personal account on the instances: the spec gives no person an "
                    "SSH key.")
    if d.break_glass:
        holder, until = d.break_glass
        text.append(f"The OpenStack key pair given at deployment logs in as each image's default "
                    f"user, with sudo: a break-glass login held by {holder}, refused by the "
                    f"instances after {until}.")
    else:
        text.append("There is no break-glass login: each image's default user is expired on "
                    "every instance, so a key pair given at deployment opens nothing.")
    if d.no_individual_logins:
        text.append(f"{_list(list(d.no_individual_logins))} run on images the guest "
                    "configuration is not written for: nobody has a personal account there.")
    text.append("Accounts are created when an instance is created: a change of access reaches "
                "running instances only when they are reprovisioned (until then an account ends "
                "on the date it was created with).")
    apps = [a.name for a in d.access if a.kind == "application"]
    if apps:
        where = (f"the bucket {d.state_bucket} on {d.site.name}" if d.state_bucket
                 else "a local state file on the machine that runs Terraform")
        text.append(f"The secret of each application credential the blueprint creates "
                    f"({_list(apps)}) is stored in the Terraform state, in {where}: whoever can "
                    "read the state can use it until it expires, so access to the state must be "
                    "limited like access to the application itself.")
    text.append("Removing leavers from the project and rotating credentials happens in "
                "Safespring's identity service (Keystone) and must be part of the controller's "
                "routines.")
    return AnnexSection("Who has access, and until when", tuple(text))


def _retention(d: Deployment) -> AnnexSection:
    text = []
    if d.personal:
        text.append(f"The spec states a retention of {d.retention_days} days for personal data "
                    "(data.retention_days). The blueprint enforces it only where it has a "
                    "mechanism for it, listed here; where it has none, that is said.")
    for b in d.buckets:
        if b.role == "data":
            lock = f"; versions are write-once ({b.object_lock})" if b.object_lock else ""
            text.append(f"Bucket {b.name}: current objects expire after {b.retention_days} "
                        f"days (a lifecycle rule Safespring Storage enforces){lock}; it is "
                        "versioned and never public.")
        elif b.role == "state":
            text.append(f"Bucket {b.name} holds the Terraform state (the configuration of the "
                        "resources, and the secrets of application credentials): its current "
                        "version never expires on purpose (losing it orphans the deployment); "
                        "replaced versions do expire.")
    bk = d.backup
    if bk and bk.bucket:
        text.append(f"Backups (bucket {bk.bucket}): the storage never expires their current "
                    "objects, because restic reuses what it wrote for as long as a snapshot "
                    f"needs it. On the instances of {_list(list(bk.groups))} restic forgets "
                    f"snapshots older than the keep policy (the oldest kept is up to "
                    f"{bk.keep_words} old) after every backup, a weekly prune deletes what only "
                    f"forgotten snapshots used, and the bucket removes deleted versions "
                    f"{bk.noncurrent_days} days later, not before their {bk.lock_days}-day lock "
                    f"has passed: data deleted on a volume stays in the backups for up to "
                    f"{bk.longest_days} days, as long as those timers run"
                    + (f", longer than the retention of {d.retention_days} days."
                       if bk.longest_days > d.retention_days and d.personal else "."))
    lg = d.logging
    text.append(f"Logs: each instance keeps its journal for at most {lg.retention_days} days "
                "and deletes rotated log files older than that daily"
                + (f"; the {lg.collector} deletes collected logs older than "
                   f"{lg.retention_days} days daily." if lg.central else "."))
    on_volumes = [g.name for g in d.groups if g.volumes and not g.collector]
    if on_volumes:
        text.append(f"Data on the volumes of {_list(on_volumes)}: nothing in the blueprint "
                    "deletes it (volumes have no expiry mechanism on the platform). Retention "
                    "of data on volumes is the application's duty.")
    return AnnexSection("Retention", tuple(text))


def _backup(d: Deployment) -> AnnexSection:
    if not d.backup or not d.backup.bucket:
        return AnnexSection("Backups and restore", (
            "The blueprint generates no backup job. Safespring does not back up customer data "
            "(Safespring's GDPR page on safespring.com, \"Backup and Recovery\"): restoring "
            "data after an incident (Art. 32(1)(c)) needs another arrangement.",
            *_buckets_not_copied(d)))
    b = d.backup
    site = d.backup_site
    where = f"{site.name} ({site.city}, {site.country})" if site else str(b.site)
    every = {"daily": "Every day", "hourly": "Every hour"}.get(b.schedule, f"On schedule {b.schedule}")
    text = [f"{every} the groups "
            f"{_list(list(b.groups))} back up their data volumes with restic to the bucket "
            f"{b.bucket} on {where}. The bucket is versioned: deleting or overwriting an object "
            "keeps its earlier version until the bucket expires it.",
            lock_sentence(b.lock_mode, b.lock_days) + " Safespring Storage's keys belong to the "
            "project, with no per-key permissions: keys of this project on an instance can do "
            "with the bucket what the project can. A bucket policy can grant another project "
            "less (docs.safespring.com/storage/s3-advanced/); the blueprint does not set up "
            "such a writer project.",
            f"On the instances of {_list(list(b.groups))} (the groups that are backed up) a "
            "timer checks hourly that a recent backup exists and logs an error when it does "
            "not, and once a week a restore drill restores the newest backup (or a random "
            "sample of its files, at most 1 GiB) onto the encrypted volume with the bucket's "
            "copy of the key, has restic verify it and removes it again; with report "
            "--evidence its last result is under \"Last verified in life\". Restore steps "
            "(same instance, new instance, after a malicious delete) are in the blueprint's "
            "BACKUP.md.",
            "Backups cannot be restored without the Tang servers: they must run on at least two "
            "hosts, not on the site of the data, with their keys backed up offline."]
    if d.logging.central:
        text.append(f"The {d.logging.collector} group is not backed up: its logs have their own "
                    "retention, which backups would outlive.")
    text += _buckets_not_copied(d)
    return AnnexSection("Backups and restore", tuple(text))


def _buckets_not_copied(d: Deployment) -> list[str]:
    data = [b.name for b in d.buckets if b.role == "data"]
    if not data:
        return []
    return [f"The bucket{'s' if len(data) > 1 else ''} {_list(data)} "
            f"{'is' if len(data) == 1 else 'are'} not backed up and not copied to another site: "
            "versioning keeps earlier versions on the same site only, and Safespring Storage "
            "has no replication. A site-wide incident can take that data with it."]


def _logging(d: Deployment) -> AnnexSection:
    lg = d.logging
    text = [f"Every instance keeps its system journal on disk for at most {lg.retention_days} "
            "days (journald's MaxRetentionSec): older entries are removed. It is a maximum, not a "
            "guarantee: journald also caps the journal's size (by default 10 % of the file "
            "system, at most 4 GiB) and removes the oldest entries sooner when the cap is "
            "reached, and nothing in the blueprint sizes the disks for that many days of logs."]
    if lg.central:
        text.append(f"Logs are also shipped to the dedicated {lg.collector} instance over "
                    "mutually authenticated TLS, where an instance that is broken into cannot "
                    "rewrite them.")
        collector = [g for g in d.groups if g.collector]
        vols = [v for g in collector for v in g.volumes]
        if vols and all(v.encrypted for v in vols):
            text.append("The collector stores them on its own volume, encrypted inside the "
                        "instance like the data volumes.")
        elif vols:
            text.append("The collector's log volume is NOT encrypted inside the instance.")
    else:
        text.append("Logs are not shipped to a central collector.")
    text.append("auditd records security-relevant events and AIDE checks file integrity on every "
                "instance; their findings travel with the logs." if lg.intrusion_detection
                else "Intrusion detection (auditd, AIDE) is switched off in the spec.")
    text.append("Safespring logs every request to its S3 storage and keeps it for 90 days; the "
                "controller can ask Safespring support for the part about its data "
                "(docs.safespring.com/service/audit_logging/, which lists this for the site "
                "sto1).")
    return AnnexSection("Logging and intrusion detection", tuple(text))


def _resilience(d: Deployment) -> AnnexSection:
    text = []
    central = [_group(g) for g in d.groups if g.storage == "central-3-copy"]
    local = [_group(g) for g in d.groups if g.storage != "central-3-copy"]
    if central:
        text.append(f"{_list(central)} boot from central block storage, where data is kept in "
                    "three copies across a cluster (Safespring's GDPR page on safespring.com, "
                    "\"Redundancy\"); a failed disk loses no data.")
    if local:
        text.append(f"{_list(local)} use local disks with a single copy: a failed disk loses "
                    "what is on them.")
    multi = [g.name for g in d.groups if g.count > 1]
    if multi:
        text.append(f"The instances of {_list(multi)} run in an anti-affinity server group, so "
                    "one failed host does not stop the whole group.")
    return AnnexSection("Resilience", tuple(text))


def _review(rev: Review) -> AnnexSection:
    return AnnexSection("Testing and review", (
        "The blueprint is scanned with the GDPR policy pack (Checkov) on every change; this "
        "report is generated from that scan.",
        rev.message,
    ))


def _running(running: Deployed | None) -> AnnexSection | None:
    """What runs, when a state or plan says it differs from what the sections above describe."""
    if running is None:
        return None
    if running.source is None:
        return AnnexSection("What runs", (
            "The sections above describe the spec and the blueprint generated from it. No "
            "Terraform state or plan was read for this record, so it does not show whether "
            "running instances were created from an older configuration: a changed guest "
            "configuration reaches an instance only when it is replaced.",))
    if not running.waiting:
        return None
    text = [f"Read from the Terraform {running.source}: some instances still run the guest "
            "configuration they were created with, which differs from what the sections above "
            "describe until they are replaced (one at a time, as the blueprint's README says):"]
    for g in running.waiting:
        what = ("; ".join(g.differences) if g.differences else
                "created before their configuration was recorded, so what they run cannot be "
                "told")
        text.append(f"{g.name}: {g.waiting + g.unknown} of {_n(g.instances, 'instance')}: "
                    f"{what}.")
    return AnnexSection("What runs", tuple(text))


def annex(d: Deployment, rev: Review, today: dt.date,
          running: Deployed | None = None) -> tuple[AnnexSection, ...]:
    """The annex sections, in the order a record of processing lists measures; last, when a
    state or plan shows instances running an older configuration, what differs."""
    egress = _egress(d)
    last = _running(running)
    return (_purpose(d), _location(d), _encryption(d), _network(d),
            *((egress,) if egress else ()), _access(d, today),
            _retention(d), _backup(d), _logging(d), _resilience(d), _review(rev),
            *((last,) if last else ()))
