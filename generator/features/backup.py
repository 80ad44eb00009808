"""Customer-run, client-side-encrypted, cross-site backups (restic + Clevis/Tang).

Safespring does not back up customer data (seed page, "Backup and Recovery"): restoring the
availability of and access to personal data in a timely manner (GDPR Art. 32(1)(c)) is the
customer's job. This module turns the spec's ``backup`` section into the files, packages and
first-boot commands that make every instance group holding data back itself up (``parts``:
all groups with volumes, except the log collector, whose logs have their own retention, which a
year of backups would outlive, Art. 5(1)(e)). It is pure: no disk I/O, deterministic text out.
The programs and units are static package data in ``ssb_guest/``; every spec-derived value goes
into one JSON data file, whose keys ``ssb_guest/backup.py`` defines (``config``).

What runs on the instance (``ssb-backup``; exercised against real restic, clevis, tang and an
S3 API by ``tests/guest_backup/``):

- restic, one repository per instance at ``s3:<endpoint>/<bucket>/<hostname>``, in a bucket on
  ``backup_site`` (another site than ``site``: a site-wide incident does not take the backups
  with it). restic encrypts and authenticates everything client-side (AES-256 + Poly1305).
  It backs up the volumes' mountpoints and ``/etc``; a volume that is not mounted stops the
  backup (an empty mountpoint must never look like the data).
- The repository password is 256 random bits made on the instance, never printed or logged,
  stored only as a Clevis JWE bound to the customer's Tang servers (sss pin, ``threshold``).
  restic gets it through ``RESTIC_PASSWORD_COMMAND`` (clevis decrypt), over a pipe. A copy of
  the JWE is uploaded next to the repository (``<hostname>.restic-password.jwe``) *before*
  ``restic init``, so a new instance can restore; without the Tang servers it is useless.
  Neither Safespring nor the generator ever holds a usable key.
- S3 credentials never appear in generated files or Terraform state: the operator runs
  ``ssb-backup-credentials`` once and gives it the key pair on stdin; it is stored
  Clevis-encrypted too. Until then every backup and check fails loudly (fail closed).
- ``ssb-backup.timer`` (daily or hourly) runs backup, then ``restic forget`` with the keep
  policy; ``ssb-backup-maintain.timer`` prunes and runs ``restic check`` (1/52 of the data
  each week) weekly; ``ssb-backup-check.timer`` fails hourly, with an error in the journal,
  when the newest snapshot is older than twice the schedule interval or the bucket lacks the
  key copy; ``ssb-backup-drill.timer`` runs a restore drill weekly (the newest snapshot, or a
  random sample of it, restored onto the encrypted volume with the bucket's key copy and
  verified by restic against the snapshot's hashes), whose result ``ssb-verify`` reports.
- ``ssb-restore [--from-host HOST] [SNAPSHOT] [TARGET]`` restores into an empty directory using
  the key copy from the bucket, so it works on a replacement instance.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

import ssb_guest
from generator import naming
from generator.render.cloudinit import GuestConfig, Part, part_from
from generator.spec.model import COLLECTOR_GROUP, InstanceGroup, Spec
from ssb_guest import backup as ssb_backup

# python3-botocore: ssb-backup's S3 client for the key copy (the maintained library behind the
# aws tools, in Debian and Ubuntu), rather than a hand-written request signer.
PACKAGES: tuple[str, ...] = ("restic", "clevis", "python3", "python3-botocore")
MEASURES: tuple[str, ...] = (
    "backup-restic",
    "backup-cross-site",
    "backup-client-side-encryption",
    "backup-freshness-check",
)

SBIN = "/usr/local/sbin"
SCRIPT = f"{SBIN}/ssb-backup"
# The program's files, configuration keys and accepted values are its own (ssb_guest/backup.py).
CONFIG = "/" + ssb_backup.ENV_DEFAULTS["SSB_BACKUP_CONFIG"]
_STATE_DIR = "/" + ssb_backup.ENV_DEFAULTS["SSB_BACKUP_STATE_DIR"]
PASSWORD_JWE = f"{_STATE_DIR}/{ssb_backup.PASSWORD_JWE}"
CREDENTIALS_JWE = f"{_STATE_DIR}/{ssb_backup.CREDENTIALS_JWE}"
UNIT_DIR = "/etc/systemd/system"
# Always backed up besides the volumes: the instance's configuration.
SYSTEM_PATHS: tuple[str, ...] = ("/etc",)
SCHEDULES = tuple(sorted(ssb_backup.INTERVALS))
KEEP_KEYS = ssb_backup.KEEP_KEYS
KEY_SUFFIX = ssb_backup.KEY_SUFFIX
TIMERS = ("ssb-backup.timer", "ssb-backup-check.timer", "ssb-backup-maintain.timer",
          "ssb-backup-drill.timer")

_ENDPOINT = re.compile(r"https://[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?(?::[0-9]{1,5})?")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_SITE = re.compile(r"[a-z][a-z0-9]{1,15}")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_TANG = re.compile(rf"https?://(?:{_LABEL}\.)*{_LABEL}(?::[0-9]{{1,5}})?/?")
_MOUNT = re.compile(r"/(?:[a-z0-9][a-z0-9._-]{0,62})(?:/[a-z0-9][a-z0-9._-]{0,62})*")
# Mountpoints that are the operating system, not data.
_FORBIDDEN = frozenset({
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/root", "/run", "/sbin",
    "/sys", "/tmp", "/usr", "/var", "/home", "/mnt", "/srv", "/opt", "/data",
})
# The guest programs (ssb_guest) this measure installs; the daily/hourly timer is chosen by
# schedule.
_PROGRAMS = (SCRIPT, f"{SBIN}/ssb-backup-check", f"{SBIN}/ssb-backup-credentials",
             f"{SBIN}/ssb-restore")
_UNITS = ("ssb-backup.service", "ssb-backup-check.service", "ssb-backup-check.timer",
          "ssb-backup-maintain.service", "ssb-backup-maintain.timer",
          "ssb-backup-drill.service", "ssb-backup-drill.timer")


def endpoint_for(site: str) -> str:
    """The Safespring Storage S3 endpoint of ``site`` (path-style, TLS only)."""
    if not isinstance(site, str) or not _SITE.fullmatch(site):
        raise ValueError(f"site {site!r} is not a Safespring site name such as 'sto2'")
    return f"https://s3.{site}.safedc.net"


def _check_int(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} {value!r} must be an integer {low}..{high}")
    return value


def _check_inputs(
    endpoint: str,
    bucket: str,
    schedule: str,
    keep: Mapping[str, int],
    paths: Sequence[str],
    tang_servers: Sequence[str],
    threshold: int,
    source_site: str | None,
) -> None:
    """Everything that reaches the guest is a plain token; anything else is a ValueError."""
    if not isinstance(endpoint, str) or not _ENDPOINT.fullmatch(endpoint):
        raise ValueError(f"endpoint {endpoint!r} must be a plain https URL without a path")
    if source_site is not None and endpoint == endpoint_for(source_site):
        raise ValueError(
            f"backups of {source_site} must go to another site (endpoint {endpoint}): a "
            "site-wide incident must not take the data and its backups (Art. 32(1)(c))"
        )
    if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket):
        raise ValueError(f"bucket {bucket!r} must be 3-63 lowercase letters, digits, hyphens")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule {schedule!r} must be one of {SCHEDULES}")
    if not isinstance(keep, Mapping) or set(keep) - set(KEEP_KEYS):
        raise ValueError(f"keep must be a mapping with keys among {KEEP_KEYS}")
    for key, value in keep.items():
        _check_int(value, f"keep.{key}", 0, 1000)
    if not any(keep.values()):
        raise ValueError("keep must keep at least one snapshot (all values are 0)")
    if isinstance(paths, str) or not isinstance(paths, Sequence) or not paths:
        raise ValueError("paths must list the mountpoints of the volumes to back up")
    for path in paths:
        if not isinstance(path, str) or not _MOUNT.fullmatch(path) or path in _FORBIDDEN:
            raise ValueError(f"path {path!r} is not a volume mountpoint (plain absolute path)")
        if ".." in path.split("/"):
            raise ValueError(f"path {path!r} must not contain '..'")
    if len(set(paths)) != len(paths):
        raise ValueError("paths contains duplicates")
    if isinstance(tang_servers, str) or not isinstance(tang_servers, Sequence) or not tang_servers:
        raise ValueError("tang_servers must list at least one Tang server URL")
    if len(tang_servers) > 10:
        raise ValueError("at most 10 tang_servers")
    for url in tang_servers:
        if not isinstance(url, str) or len(url) > 253 or not _TANG.fullmatch(url):
            raise ValueError(f"tang server {url!r} must be an http(s) URL: host and optional port")
    if len(set(tang_servers)) != len(tang_servers):
        raise ValueError("tang_servers contains duplicates")
    _check_int(threshold, "threshold", 1, len(tang_servers))


def backup_config(
    *,
    endpoint: str,
    bucket: str,
    schedule: str,
    keep: Mapping[str, int],
    paths: Sequence[str],
    tang_servers: Sequence[str],
    threshold: int = 1,
    source_site: str | None = None,
) -> GuestConfig:
    """Files, packages and first-boot commands for restic backups of ``paths`` (+ /etc).

    ``paths`` are the mountpoints of the instance group's volumes (each must be mounted at
    backup time). ``source_site``, when given, is checked to differ from the endpoint's site.
    """
    _check_inputs(endpoint, bucket, schedule, keep, paths, tang_servers, threshold, source_site)
    data = ssb_backup.config(
        endpoint=endpoint, bucket=bucket, schedule=schedule,
        keep={k: keep[k] for k in KEEP_KEYS if k in keep}, paths=paths,
        system_paths=SYSTEM_PATHS, tang_servers=[u.rstrip("/") for u in tang_servers],
        threshold=threshold)
    files = [(CONFIG, json.dumps(data, indent=2, sort_keys=True) + "\n", "0644")]
    files += [ssb_guest.program(path) for path in _PROGRAMS]
    files += [(f"{UNIT_DIR}/{unit}", ssb_guest.read(f"units/{unit}"), "0644") for unit in _UNITS]
    files.append((f"{UNIT_DIR}/ssb-backup.timer",
                  ssb_guest.read(f"units/ssb-backup.timer.{schedule}"), "0644"))
    files.sort()
    commands: tuple[tuple[str, ...], ...] = (
        ("systemctl", "daemon-reload"),
        # First boot: make the repository password and bind it to Tang. If Tang is not
        # reachable yet this fails (logged); every backup run retries it.
        (SCRIPT, "init-key"),
        ("systemctl", "enable", "--now", *TIMERS),
    )
    return GuestConfig(packages=PACKAGES, files=tuple(files), commands=commands,
                       measures=MEASURES)


def _lock_text(mode: str, days: int) -> str:
    if mode == "COMPLIANCE":
        first = (f"COMPLIANCE: nobody can remove a version in its first {days} days, not the "
                 "project's keys the instances hold, not the bypass header, not you.")
    else:
        first = ("GOVERNANCE: the project's keys, which every backed-up instance holds, can remove "
                 "a locked version by sending the bypass header: whoever controls an instance can "
                 "destroy its backups, recent ones included.")
    return (f"{first} After {days} days a version is no longer locked. restic writes unchanged "
            "data once and reuses it for every later snapshot, and the repository's key and "
            "config files are written when it is created: most of what a recent snapshot needs "
            f"is older than {days} days. Whoever controls a backed-up instance can delete those "
            "older versions for good with its keys, and the backups of that instance with them. "
            "The lock guarantees that what was written in the last "
            f"{days} days survives such an attack; it does not guarantee that a snapshot can be "
            "restored after it. Watch the backup check's errors on the log collector, and rotate "
            "the project's S3 keys when an instance may be compromised.")


def _erasure_text(mode: str, days: int) -> str:
    meet = ("An erasure request (Art. 17) is met in the backups by forgetting the snapshots "
            "that hold the data with restic (repository and password as under \"Without the "
            "blueprint's tools\" above: `restic forget ID`, then `restic prune`). ")
    if mode == "COMPLIANCE":
        return meet + (f"The versions then stay until their {days}-day lock has passed, and "
                       "the bucket removes them after its noncurrent period: nobody can remove "
                       "them earlier, an operator included. That is the price of backups an "
                       "attacker cannot remove early; say so in the record of processing.")
    return meet + ("With GOVERNANCE an operator can also remove the versions at once (the bypass "
                   "header), at the price described above.")


def restore_instructions(*, endpoint: str, bucket: str, backup_site: str | None = None,
                         lock_mode: str = "COMPLIANCE", lock_days: int = 14,
                         noncurrent_days: int = 30, keep: str | None = None) -> str:
    """README text (Markdown): how to restore, on the same or a NEW instance, and after an attack,
    what the bucket's lock protects and what it does not, and how long backups keep data
    (`keep`: the keep policy's longest span in words, e.g. "12 months").

    Pasted by the generator into the blueprint's README; values are validated first.
    """
    if lock_mode not in ("COMPLIANCE", "GOVERNANCE") or not 1 <= int(lock_days) <= 365:
        raise ValueError(f"lock {lock_mode!r} {lock_days!r}: COMPLIANCE or GOVERNANCE, 1-365 days")
    if not isinstance(endpoint, str) or not _ENDPOINT.fullmatch(endpoint):
        raise ValueError(f"endpoint {endpoint!r} must be a plain https URL without a path")
    if not isinstance(bucket, str) or not _BUCKET.fullmatch(bucket):
        raise ValueError(f"bucket {bucket!r} must be 3-63 lowercase letters, digits, hyphens")
    where = f" on `{backup_site}`" if backup_site is not None else ""
    if backup_site is not None:
        endpoint_for(backup_site)  # validates the name
    return f"""\
## Backups and restore

Every instance with volumes backs itself up with restic to the bucket `{bucket}`{where}
(`{endpoint}`, path style). Safespring does not back up customer data; these backups are yours
(GDPR Art. 32(1)(c)). Everything is encrypted on the instance before upload; the repository
password exists only as a Clevis JWE bound to your Tang servers, so neither Safespring nor the
generator can read the backups. **Without your Tang servers the backups cannot be restored**:
run at least two Tang servers, not on the same site as the data (a site-wide incident must not
take both), keep their key directories (`/var/db/tang`) backed up offline, and make sure a
rebuilt instance can reach them.

Bucket layout: `{bucket}/<hostname>/` is the restic repository of one instance,
`{bucket}/<hostname>{KEY_SUFFIX}` is the Clevis JWE of its password.

### After deployment (once per instance)

Give each instance the S3 key pair of the project (EC2-style keys; never in Terraform). These
keys are the project's, not the instance's: Safespring Storage has no per-key permissions within
a project (a bucket policy tells projects apart, not keys of one:
docs.safespring.com/storage/s3-advanced/), so whoever controls an instance can do with the
bucket what the project can. What the lock still protects is below.

```sh
sudo ssb-backup-credentials        # prompts for the access key and the secret key
```

Until this is done backups do **not** run, and `ssb-backup-check` logs an error every hour.
Check with `systemctl list-timers 'ssb-backup*'` and `journalctl -u ssb-backup -u ssb-backup-check`.
A restore drill runs weekly (`ssb-backup-drill.timer`): it restores the newest snapshot, or a
random sample of its files, onto the encrypted volume with the bucket's key copy, has restic
verify it, and removes it; `ssb-verify` reports the result. Run one now with
`sudo systemctl start ssb-backup-drill` and read `journalctl -u ssb-backup-drill`.

### Restore on the same instance

```sh
sudo ssb-backup snapshots     # list snapshots
sudo ssb-restore latest       # or a snapshot ID instead of latest
```

Without a target, `ssb-restore` restores onto the first encrypted volume, into
`<mountpoint>/.ssb-restore/<hostname>-<snapshot>` (backups skip that directory). Give a target
only on an encrypted volume: restored personal data on the root disk would be stored
unencrypted, and `ssb-restore` warns when a target is not on a LUKS volume. It only writes into
an empty directory: live data is never overwritten. Files come back under their original paths
below the target; copy back what you need (stop the service using it first). Restrict with
`--include /srv/data/dir`.

### Restore onto a NEW instance (the old one is lost)

1. Deploy the blueprint (or any instance of it) so the new instance has `ssb-backup`, its
   volumes are mounted, and the Tang servers are reachable from it.
2. `sudo ssb-backup-credentials` on the new instance.
3. Restore the lost instance's repository, using the key copy from the bucket:
   `sudo ssb-restore --from-host OLD-HOSTNAME latest` (onto the encrypted volume, as above),
   then copy the data into place.
4. If the new instance has the **same hostname** as the lost one, its first backup stops with
   "created with a different key": run `sudo ssb-backup adopt-key` to continue the old
   repository (the new instance's own key is kept as `restic-password.jwe.replaced-*`).

Without the blueprint's tools (any Linux host with `restic`, `clevis` and `awscli`, that can
reach the Tang servers):

```sh
export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...   # from a prompt, not your history
aws --endpoint-url {endpoint} s3 cp s3://{bucket}/OLD-HOSTNAME{KEY_SUFFIX} ./key.jwe
export RESTIC_REPOSITORY=s3:{endpoint}/{bucket}/OLD-HOSTNAME
export RESTIC_PASSWORD_COMMAND="/bin/sh -c 'exec clevis decrypt < \\"\\$0\\"' $PWD/key.jwe"
restic -o s3.bucket-lookup=path snapshots
restic -o s3.bucket-lookup=path restore latest --target /PATH/ON/AN/ENCRYPTED/VOLUME
```

### What the lock protects, and what it does not

Every version written to the bucket is locked for {lock_days} days after it is written, in
{lock_mode} mode.
{_lock_text(lock_mode, lock_days)}

### How long backups keep data, and erasure requests

Snapshots are forgotten by the keep policy{f" (the oldest kept is up to {keep} old)" if keep else ""}
after every backup; a weekly prune deletes what only forgotten snapshots used, and the bucket
removes such deleted versions {noncurrent_days} days later (not before their lock has passed).
So data deleted on a volume stays in the backups for up to the oldest kept snapshot's age, plus
a week, plus {noncurrent_days} days. {_erasure_text(lock_mode, lock_days)}

### After ransomware or an accidental delete

Deleting objects without a version (or `restic forget --prune` run by an attacker) only adds
delete markers; the object versions stay. Versions still under their lock cannot be deleted
{"by anyone" if lock_mode == "COMPLIANCE" else "but with the bypass header the project's keys may send"};
versions whose lock has passed can be, with the project's keys (see above).
Until the noncurrent-version lifecycle removes them you can bring the repository back by
deleting the delete markers newer than the attack under `OLD-HOSTNAME/` and on
`OLD-HOSTNAME{KEY_SUFFIX}`: list them with `aws s3api list-object-versions --endpoint-url
{endpoint} --bucket {bucket} --prefix OLD-HOSTNAME` (the prefix also matches longer
hostnames: check the keys) and run `aws s3api delete-object --version-id ...` for each
marker; then restore as above. Rotate the S3 keys and rebuild the affected instances first.
"""


# ---------------------------------------------------------------------------------------------
# The feature: which groups are backed up, and their cloud-init part.

# After disk encryption (volumes must be mounted) and before logging (AIDE's baseline last).
ORDER = 50


def bucket_name(spec: Spec) -> str:
    """The deployment's backup bucket (on `backup_site`)."""
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
