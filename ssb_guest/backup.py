#!/usr/bin/python3
"""ssb-backup: client-side-encrypted restic backups to an Object-Locked bucket on another site.

Installed by safespring-blueprints through cloud-init; run as root by systemd timers. Safespring
does not back up customer data, so the customer's instances do it themselves (GDPR Art.
32(1)(b)-(c)). Subcommands:

  init-key      first boot: make a random repository password and store it only as a Clevis
                JWE bound to the customer's Tang servers (sss pin). Never printed.
  credentials   (also `ssb-backup-credentials`) read the S3 access key pair from stdin and
                store it Clevis-encrypted. Until this has run, backups fail loudly.
  run           (ssb-backup.timer) back up the volumes' mountpoints and /etc, then
                `restic forget` with the keep policy.
  check         (also `ssb-backup-check`, hourly timer) fail unless the newest snapshot is
                younger than twice the schedule interval and the bucket holds the key copy.
  maintain      (weekly timer) `restic prune`, then `restic check` reading 1/52 of the data
                (a different part each week: all data is read back about once a year).
  snapshots     list the snapshots of this instance (or --from-host).
  restore       (also `ssb-restore`) restore a snapshot into an empty directory, using the
                key copy from the bucket: works on a new instance that replaces a lost one.
                Without a target it restores onto the first (encrypted) volume, into
                RESTORE_DIR; a target elsewhere than on a LUKS volume gets a warning.
  adopt-key     make this instance use the key copy from the bucket (a replacement instance
                with the same hostname continues the old repository).
  drill         (weekly timer) a restore drill: restore the newest snapshot, or a random sample
                of its files when it is larger than the drill's budget, with the key copy from
                the bucket (as a replacement instance would), onto the encrypted volume; restic
                verifies every restored file against the snapshot's content hashes, and the
                drill compares each file's size with the snapshot's listing. The result, its
                duration and the recovery point go to the journal and to DRILL_STATE, which
                ssb-verify reports (GDPR Art. 32(1)(c)-(d)).

Layout in the bucket: the restic repository of an instance is `<bucket>/<hostname>/`; the
Clevis JWE of its password is `<bucket>/<hostname>.restic-password.jwe` next to it. The JWE is
useless without the Tang servers, so the platform never holds a usable key.

No deployment-specific value lives in this file: everything comes from the configuration
file (JSON, written by the generator). Paths and commands can be redirected through the
environment variables in ENV_DEFAULTS (tests, unusual images). Python 3.10+ standard library
(the oldest supported guest image, Ubuntu 22.04, ships 3.10; see ssb_guest/__init__.py), and
botocore (python3-botocore) for the S3 calls of its own.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import fcntl
import getpass
import hashlib
import json
import os
import random
import re
import secrets
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

PROG = "ssb-backup"

ENV_DEFAULTS: dict[str, str] = {
    # Prefix for every guest path below and in the configuration (tests use a temporary root).
    "SSB_BACKUP_ROOT": "/",
    "SSB_BACKUP_CONFIG": "etc/safespring-blueprints/backup/config.json",
    "SSB_BACKUP_STATE_DIR": "etc/safespring-blueprints/backup",
    "SSB_BACKUP_CACHE_DIR": "var/cache/ssb-backup",
    "SSB_BACKUP_LOCK": "run/lock/ssb-backup.lock",
    # Empty: the short hostname of the instance.
    "SSB_BACKUP_HOST": "",
    # Empty: the endpoint from the configuration. Test-only: http://127.0.0.1:PORT is accepted.
    "SSB_BACKUP_ENDPOINT": "",
    "SSB_CMD_RESTIC": "restic",
    "SSB_CMD_CLEVIS": "clevis",
    "SSB_S3_TIMEOUT": "60",
    # The restore drill's result (read by ssb-verify) and the most it restores, in bytes.
    "SSB_DRILL_STATE": "var/lib/ssb-backup/restore-drill.json",
    "SSB_DRILL_BUDGET": str(1 << 30),
}

PASSWORD_JWE = "restic-password.jwe"
# Present while the local password has never protected a repository (a new instance's).
UNUSED_MARK = "restic-password.unused"
CREDENTIALS_JWE = "s3-credentials.jwe"
PRE_BACKUP_HOOK = "pre-backup"
KEY_SUFFIX = ".restic-password.jwe"
S3_REGION = "us-east-1"  # Ceph RGW accepts the placeholder region the aws SDKs need
INTERVALS = {"hourly": 3600, "daily": 86400}
KEEP_KEYS = ("hourly", "daily", "weekly", "monthly")

HOST_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
HTTPS_RE = re.compile(r"^https://[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?$")
LOOPBACK_RE = re.compile(r"^http://(127\.0\.0\.1|\[::1\]):[0-9]{1,5}$")
TANG_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$")
THP_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
PATH_RE = re.compile(r"^/[A-Za-z0-9._/-]*$")
TOKEN_RE = re.compile(r"^[A-Za-z0-9._/-]+$")
SNAPSHOT_RE = re.compile(r"^(latest|[0-9a-f]{8,64})$")
CRED_RE = re.compile(r"^[!-~]{3,256}$")  # printable ASCII, no spaces
RFC3339_RE = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$"
)


class BackupError(Exception):
    """A condition that stops the command; the message says what an operator should do."""


# --------------------------------------------------------------------------------------------
# Logging: stderr, which systemd sends to the journal. Under systemd (JOURNAL_STREAM set) each
# line carries a syslog priority prefix, so errors are journal priority "err" and the log
# shipping can alert on them.

PRIORITIES = {"error": 3, "warning": 4, "info": 6}


def log(message: str, level: str = "info") -> None:
    """One line to stderr, tagged with its priority for the journal."""
    for line in message.splitlines() or [""]:
        if os.environ.get("JOURNAL_STREAM"):
            text = f"<{PRIORITIES[level]}>{PROG}: {line}"
        else:
            text = f"{PROG}: {level.upper()}: {line}" if level != "info" else f"{PROG}: {line}"
        print(text, file=sys.stderr, flush=True)


def env(name: str) -> str:
    """The overridable setting `name`."""
    return os.environ.get(name, ENV_DEFAULTS[name])


def guest_path(relative_or_abs: str) -> str:
    """A guest path below SSB_BACKUP_ROOT (which is "/" on a real instance)."""
    root = env("SSB_BACKUP_ROOT")
    return os.path.join(root, relative_or_abs.lstrip("/"))


def cmd(name: str) -> list[str]:
    """The command for SSB_CMD_<name> as an argv prefix."""
    return shlex.split(env("SSB_CMD_" + name))


# --------------------------------------------------------------------------------------------
# Configuration.


def _tang_pin(server: Any, index: int) -> dict[str, str]:
    if isinstance(server, str):
        server = {"url": server}
    if not isinstance(server, dict) or set(server) - {"url", "thp"}:
        raise BackupError(f"tang_servers[{index}] must be a URL or an object with url and thp")
    url = server.get("url")
    if not isinstance(url, str) or not TANG_RE.match(url):
        raise BackupError(f"tang_servers[{index}] is not a plain http(s) URL: {url!r}")
    pin = {"url": url}
    if "thp" in server:
        if not isinstance(server["thp"], str) or not THP_RE.match(server["thp"]):
            raise BackupError(f"tang_servers[{index}].thp is not a key thumbprint")
        pin["thp"] = server["thp"]
    return pin


def _check_path(value: Any, what: str) -> str:
    if not isinstance(value, str) or not PATH_RE.match(value) or "/../" in value + "/":
        raise BackupError(f"{what} {value!r} is not a plain absolute path")
    if value != "/" and value.endswith("/"):
        raise BackupError(f"{what} {value!r} must not end with '/'")
    return value


def load_config(path: str) -> dict[str, Any]:
    """Read and re-check the configuration; every problem names the key."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except FileNotFoundError as exc:
        raise BackupError(f"configuration file {path} does not exist") from exc
    except (OSError, ValueError) as exc:
        raise BackupError(f"cannot read configuration file {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise BackupError(f"{path}: the configuration must be a JSON object")
    known = {"version", "endpoint", "bucket", "schedule", "keep", "paths", "system_paths",
             "tang_servers", "threshold"}
    if set(raw) - known:
        raise BackupError(f"{path}: unknown keys {sorted(set(raw) - known)}")
    if raw.get("version") != 1:
        raise BackupError(f"{path}: version must be 1")
    endpoint = raw.get("endpoint")
    if not isinstance(endpoint, str) or not HTTPS_RE.match(endpoint):
        raise BackupError(f"endpoint {endpoint!r} must be an https URL without a path")
    override = env("SSB_BACKUP_ENDPOINT")
    if override:
        if not (HTTPS_RE.match(override) or LOOPBACK_RE.match(override)):
            raise BackupError("SSB_BACKUP_ENDPOINT must be https or http on the loopback address")
        endpoint = override
    bucket = raw.get("bucket")
    if not isinstance(bucket, str) or not BUCKET_RE.match(bucket):
        raise BackupError(f"bucket {bucket!r} is not a valid bucket name")
    schedule = raw.get("schedule")
    if schedule not in INTERVALS:
        raise BackupError(f"schedule {schedule!r} must be one of {sorted(INTERVALS)}")
    keep = raw.get("keep")
    if not isinstance(keep, dict) or set(keep) - set(KEEP_KEYS):
        raise BackupError(f"keep must be an object with keys among {list(KEEP_KEYS)}")
    for key, value in keep.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
            raise BackupError(f"keep.{key} must be an integer 0..1000")
    if not any(keep.values()):
        raise BackupError("keep must keep at least one snapshot")
    paths = raw.get("paths")
    if not isinstance(paths, list) or not paths:
        raise BackupError("paths must be a non-empty list of volume mountpoints")
    system_paths = raw.get("system_paths", [])
    if not isinstance(system_paths, list):
        raise BackupError("system_paths must be a list")
    paths = [_check_path(p, "paths entry") for p in paths]
    system_paths = [_check_path(p, "system_paths entry") for p in system_paths]
    servers = raw.get("tang_servers")
    if not isinstance(servers, list) or not servers:
        raise BackupError("tang_servers must be a non-empty list")
    pins = [_tang_pin(s, i) for i, s in enumerate(servers)]
    threshold = raw.get("threshold", 1)
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise BackupError("threshold must be an integer")
    if not 1 <= threshold <= len(pins):
        raise BackupError(f"threshold must be between 1 and {len(pins)} (the number of servers)")
    return {
        "endpoint": endpoint,
        "bucket": bucket,
        "schedule": schedule,
        "keep": {k: keep[k] for k in KEEP_KEYS if keep.get(k)},
        "paths": paths,
        "system_paths": system_paths,
        "pins": pins,
        "threshold": threshold,
    }


# generator side: not installed
# The configuration file as the generator writes it: load_config() above reads what this writes.
def config(*, endpoint: str, bucket: str, schedule: str, keep: dict[str, int],
           paths: Sequence[str], system_paths: Sequence[str], tang_servers: Sequence[str],
           threshold: int) -> dict[str, Any]:
    """The configuration file's content (version 1); `keep` by KEEP_KEYS, `schedule` one of
    INTERVALS."""
    return {"version": 1, "endpoint": endpoint, "bucket": bucket, "schedule": schedule,
            "keep": dict(keep), "paths": list(paths), "system_paths": list(system_paths),
            "tang_servers": list(tang_servers), "threshold": threshold}


# end of generator side
def hostname() -> str:
    """This instance's repository name: its short hostname."""
    name = env("SSB_BACKUP_HOST") or os.uname().nodename.split(".")[0].lower()
    if not HOST_RE.match(name):
        raise BackupError(f"hostname {name!r} cannot name a repository (a-z, 0-9, '-')")
    return name


def state_file(name: str) -> str:
    return os.path.join(guest_path(env("SSB_BACKUP_STATE_DIR")), name)


# --------------------------------------------------------------------------------------------
# Clevis / Tang. Secrets only ever pass through pipes; nothing here prints them.


def sss_config(config: dict[str, Any]) -> str:
    """The clevis sss pin configuration: any `threshold` of the Tang servers decrypt."""
    return json.dumps({"t": config["threshold"], "pins": {"tang": config["pins"]}},
                      separators=(",", ":"))


def clevis_encrypt(config: dict[str, Any], secret: bytes) -> bytes:
    try:
        proc = subprocess.run(
            [*cmd("CLEVIS"), "encrypt", "sss", sss_config(config), "-y"],
            input=secret, capture_output=True, timeout=120, check=False,
        )
    except FileNotFoundError as exc:
        raise BackupError("clevis is not installed (apt-get install clevis)") from exc
    if proc.returncode != 0 or proc.stdout.count(b".") != 4:
        detail = proc.stderr.decode("utf-8", "replace").strip()
        raise BackupError(f"clevis encrypt failed (are the Tang servers reachable?): {detail}")
    return proc.stdout.strip()


def clevis_decrypt(jwe: bytes, what: str) -> bytes:
    try:
        proc = subprocess.run([*cmd("CLEVIS"), "decrypt"], input=jwe, capture_output=True,
                              timeout=120, check=False)
    except FileNotFoundError as exc:
        raise BackupError("clevis is not installed (apt-get install clevis)") from exc
    if proc.returncode != 0 or not proc.stdout:
        raise BackupError(
            f"cannot decrypt the {what}: fewer than the required number of Tang servers "
            "answered (is the network to the Tang servers up?)"
        )
    return proc.stdout


def write_private(path: str, content: bytes) -> None:
    """Atomically write a root-only file (0600) in a root-only directory (0700)."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_file(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def ensure_key(config: dict[str, Any]) -> bytes:
    """The local password JWE; made at first use from 256 random bits, never shown."""
    path = state_file(PASSWORD_JWE)
    existing = read_file(path)
    if existing is not None:
        return existing
    password = secrets.token_hex(32).encode("ascii")
    jwe = clevis_encrypt(config, password)
    if clevis_decrypt(jwe, "new repository password") != password:
        raise BackupError("the new password did not survive a Clevis round trip; not stored")
    write_private(state_file(UNUSED_MARK), b"")
    write_private(path, jwe + b"\n")
    log(f"repository password generated and bound to the Tang servers: {path}")
    return jwe + b"\n"


def _b64url_json(part: str) -> Any:
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def jwe_tang_urls(jwe: bytes) -> set[str]:
    """The Tang servers a Clevis JWE (tang, or sss of tang pins) needs, from its header."""
    try:
        header = _b64url_json(jwe.strip().decode("ascii").split(".")[0])
        clevis = header["clevis"]
        if clevis["pin"] == "tang":
            return {str(clevis["tang"]["url"]).rstrip("/")}
        if clevis["pin"] == "sss":
            return set().union(*(jwe_tang_urls(inner.encode("ascii"))
                                 for inner in clevis["sss"]["jwe"]))
    except (ValueError, KeyError, TypeError, IndexError, UnicodeError) as exc:
        raise BackupError("the key copy is not a Clevis JWE this tool made") from exc
    raise BackupError(f"the key copy uses the Clevis pin {clevis['pin']!r}, not Tang")


def check_key_copy(config: dict[str, Any], jwe: bytes) -> None:
    """A key copy from the bucket may be used only if it is bound to our own Tang servers and
    they open it: a planted copy bound to someone else's Tang would hand them the backups."""
    ours = {pin["url"].rstrip("/") for pin in config["pins"]}
    theirs = jwe_tang_urls(jwe)
    if not theirs <= ours:
        raise BackupError(f"the key copy is bound to Tang servers {sorted(theirs - ours)} that "
                          "this instance does not use: refusing it")
    clevis_decrypt(jwe, "repository key copy from the bucket")


def load_credentials(config: dict[str, Any]) -> tuple[str, str]:
    """The S3 key pair, decrypted through Tang. Missing means: fail closed, loudly."""
    jwe = read_file(state_file(CREDENTIALS_JWE))
    if jwe is None:
        raise BackupError(
            "no S3 credentials stored: backups are NOT running. Run `ssb-backup-credentials` "
            "once on this instance and give it the access key and secret key on stdin"
        )
    data = clevis_decrypt(jwe, "S3 credentials")
    try:
        creds = json.loads(data)
        access, secret = creds["access_key_id"], creds["secret_access_key"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError("the stored S3 credentials are malformed; run ssb-backup-credentials") from exc
    return access, secret


# --------------------------------------------------------------------------------------------
# The S3 client for the key copy next to the repository: botocore, the maintained library behind
# the aws tools (Debian and Ubuntu ship it as python3-botocore). restic does the repository
# itself; this only puts and gets one small object per instance.

# Retries after a first attempt (botocore's standard mode: 503 SlowDown, throttling, resets and
# timeouts, with exponential back-off).
S3_RETRIES = 4


def _s3_client(endpoint: str, access: str, secret: str) -> Any:
    """A botocore S3 client for `endpoint`: path style, SigV4, retries, nothing from ~/.aws."""
    try:
        import botocore.session
        from botocore.config import Config
    except ImportError as exc:
        raise BackupError("python3-botocore is not installed (apt-get install "
                          "python3-botocore)") from exc
    timeout = float(env("SSB_S3_TIMEOUT"))
    options: dict[str, Any] = {
        "s3": {"addressing_style": "path"}, "signature_version": "s3v4",
        "connect_timeout": timeout, "read_timeout": timeout,
        "retries": {"max_attempts": S3_RETRIES, "mode": "standard"},
    }
    try:  # botocore >= 1.36 adds checksums by default, which Ceph RGW refuses
        config = Config(**options, request_checksum_calculation="when_required",
                        response_checksum_validation="when_required")
    except TypeError:  # older botocore sends none it was not asked for
        config = Config(**options)
    # Only the endpoint, the keys and the settings above count: an operator's AWS_PROFILE or
    # ~/.aws/config must not change where the key copy goes or how it is signed.
    saved = {k: os.environ.pop(k) for k in [k for k in os.environ if k.startswith("AWS_")]}
    os.environ.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                      AWS_EC2_METADATA_DISABLED="true")
    try:
        return botocore.session.Session().create_client(
            "s3", endpoint_url=endpoint, region_name=S3_REGION, aws_access_key_id=access,
            aws_secret_access_key=secret, config=config)
    finally:
        for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED"):
            os.environ.pop(name, None)
        os.environ.update(saved)


class S3:
    """get / exists / put / probe of objects in one bucket, with the errors an operator reads."""

    def __init__(self, endpoint: str, bucket: str, access: str, secret: str) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self.access = access
        self.secret = secret
        self.client = _s3_client(endpoint, access, secret)

    def _call(self, operation: str, **params: Any) -> tuple[int, str, Any]:
        """(HTTP status, S3 error code, response) of one call after botocore's retries."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = getattr(self.client, operation)(Bucket=self.bucket, **params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            return int(status or 0), str(error.get("Code", "")), None
        except BotoCoreError as exc:
            raise BackupError(f"S3 endpoint {self.endpoint} unreachable: {exc}") from exc
        return 200, "", response

    def get(self, key: str) -> bytes | None:
        status, code, response = self._call("get_object", Key=key)
        if status == 404:
            return None
        if status != 200:
            raise BackupError(f"S3 GET {self.bucket}/{key} failed: HTTP {status} {code}")
        from botocore.exceptions import BotoCoreError

        try:
            return response["Body"].read()
        except BotoCoreError as exc:
            raise BackupError(f"S3 GET {self.bucket}/{key} broke off: {exc}") from exc

    def exists(self, key: str) -> bool:
        status, _, _ = self._call("head_object", Key=key)
        if status == 404:
            return False
        if status != 200:
            raise BackupError(f"S3 HEAD {self.bucket}/{key} failed: HTTP {status}")
        return True

    def put(self, key: str, payload: bytes) -> None:
        # Content-MD5 is required on buckets with a default Object Lock retention.
        md5 = base64.b64encode(hashlib.md5(payload).digest()).decode("ascii")
        status, code, _ = self._call("put_object", Key=key, Body=payload, ContentMD5=md5,
                                     ContentType="application/jose")
        if status != 200:
            raise BackupError(f"S3 PUT {self.bucket}/{key} failed: HTTP {status} {code}")

    def probe(self, prefix: str) -> None:
        """List at most one key: proves the keys may read the bucket."""
        status, code, _ = self._call("list_objects_v2", MaxKeys=1, Prefix=prefix)
        if status != 200:
            raise BackupError(
                f"the S3 endpoint refused these keys for bucket {self.bucket}: HTTP {status} "
                f"{code}"
            )


# --------------------------------------------------------------------------------------------
# restic.


class Repo:
    """One instance's restic repository, with the password coming from a Clevis JWE file."""

    def __init__(self, config: dict[str, Any], host: str, creds: tuple[str, str],
                 jwe_path: str) -> None:
        self.config = config
        self.host = host
        self.creds = creds
        self.jwe_path = jwe_path
        self.url = f"s3:{config['endpoint']}/{config['bucket']}/{host}"

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("AWS_", "RESTIC_", "MINIO_"))}
        clevis = cmd("CLEVIS")
        if len(clevis) != 1 or not TOKEN_RE.match(clevis[0]) or not TOKEN_RE.match(self.jwe_path):
            raise BackupError("clevis command and key file path must be plain paths")
        base.update({
            "RESTIC_REPOSITORY": self.url,
            # restic runs this for the password (no shell involved on restic's side): Clevis
            # decrypts the JWE through Tang and hands the password to restic over a pipe.
            "RESTIC_PASSWORD_COMMAND": (
                f"/bin/sh -c 'exec \"$0\" decrypt < \"$1\"' {clevis[0]} {self.jwe_path}"
            ),
            "RESTIC_CACHE_DIR": guest_path(env("SSB_BACKUP_CACHE_DIR")),
            "AWS_ACCESS_KEY_ID": self.creds[0],
            "AWS_SECRET_ACCESS_KEY": self.creds[1],
        })
        return base

    def run(self, args: Sequence[str], *, capture: bool = False, to_stdout: bool = False
            ) -> subprocess.CompletedProcess:
        argv = [*cmd("RESTIC"), "-o", "s3.bucket-lookup=path", "-o", f"s3.region={S3_REGION}",
                *args]
        log("run: restic " + " ".join(shlex.quote(a) for a in args))
        try:
            return subprocess.run(
                argv, env=self.env(), stdin=subprocess.DEVNULL, check=False, text=True,
                # restic's progress and summaries go to the journal (stderr); listings asked
                # for by a person go to stdout.
                stdout=subprocess.PIPE if capture else (sys.stdout if to_stdout else sys.stderr),
                stderr=subprocess.PIPE if capture else sys.stderr,
            )
        except FileNotFoundError as exc:
            raise BackupError("restic is not installed (apt-get install restic)") from exc

    def must(self, args: Sequence[str], what: str, *, capture: bool = False,
             to_stdout: bool = False) -> subprocess.CompletedProcess:
        proc = self.run(args, capture=capture, to_stdout=to_stdout)
        if proc.returncode != 0:
            detail = (proc.stderr or "").strip() if capture else ""
            raise BackupError(f"{what} failed (restic exit {proc.returncode}) {detail}".strip())
        return proc

    def snapshots(self) -> list[dict[str, Any]]:
        proc = self.must(["snapshots", "--json", "--host", self.host], "listing snapshots",
                         capture=True)
        try:
            data = json.loads(proc.stdout or "[]")
        except ValueError as exc:
            raise BackupError("restic returned unreadable snapshot JSON") from exc
        return data if isinstance(data, list) else []


def parse_time(text: str) -> dt.datetime:
    """restic's RFC 3339 timestamps: nanoseconds and any offset (fromisoformat is stricter)."""
    match = RFC3339_RE.match(text)
    if not match:
        raise BackupError(f"unreadable snapshot time {text!r}")
    y, mo, d, h, mi, s, frac, tz = match.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    offset = dt.timedelta(0)
    if tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        offset = sign * dt.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
    return dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), micro,
                       tzinfo=dt.timezone(offset))


class Lock:
    """One repository-changing run at a time on this instance (timers may overlap)."""

    def __enter__(self) -> Lock:
        path = guest_path(env("SSB_BACKUP_LOCK"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.handle = open(path, "w")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


# --------------------------------------------------------------------------------------------
# Subcommands.


def setup(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    return load_config(args.config), hostname()


def cmd_init_key(args: argparse.Namespace) -> int:
    config, _ = setup(args)
    ensure_key(config)
    return 0


def read_key_pair(stream: Any) -> tuple[str, str]:
    """Access key and secret key: two whitespace-separated tokens, or prompts on a TTY."""
    if stream.isatty():
        access = getpass.getpass("S3 access key: ").strip()
        secret = getpass.getpass("S3 secret key: ").strip()
    else:
        tokens = stream.read().split()
        if len(tokens) != 2:
            raise BackupError("expected exactly two values on stdin: ACCESS_KEY SECRET_KEY")
        access, secret = tokens
    if not CRED_RE.match(access) or not CRED_RE.match(secret):
        raise BackupError("the access key and secret key must be printable ASCII without spaces")
    return access, secret


def cmd_credentials(args: argparse.Namespace) -> int:
    config, host = setup(args)
    access, secret = read_key_pair(sys.stdin)
    if not args.no_verify:
        S3(config["endpoint"], config["bucket"], access, secret).probe(host + "/")
    payload = json.dumps({"access_key_id": access, "secret_access_key": secret}).encode()
    jwe = clevis_encrypt(config, payload)
    if clevis_decrypt(jwe, "new S3 credentials") != payload:
        raise BackupError("the S3 credentials did not survive a Clevis round trip; not stored")
    write_private(state_file(CREDENTIALS_JWE), jwe + b"\n")
    log("S3 credentials stored, bound to the Tang servers; backups can run now")
    return 0


def prepare_repository(config: dict[str, Any], host: str, s3: S3, local_jwe: bytes) -> None:
    """Make sure the repository exists and the bucket holds the copy of its key.

    The key copy goes up (and is read back) BEFORE `restic init`: a repository whose key
    exists only on the instance would be lost with the instance.
    """
    remote = s3.get(host + KEY_SUFFIX)
    if s3.exists(f"{host}/config"):
        if remote is None:
            raise BackupError(
                f"repository {config['bucket']}/{host} exists but {host}{KEY_SUFFIX} is missing "
                "next to it: it was not made by this tool; refusing to back up into it"
            )
        if remote.strip() != local_jwe.strip() and os.path.exists(state_file(UNUSED_MARK)):
            # A replacement instance (same hostname, new root disk): its own new key never
            # protected anything, so it continues the old repository with that repository's key.
            check_key_copy(config, remote)
            write_private(state_file(PASSWORD_JWE), remote.strip() + b"\n")
            os.unlink(state_file(UNUSED_MARK))
            log(f"continuing repository {config['bucket']}/{host} of the instance this one "
                "replaces, with its key copy from the bucket")
            return
        if remote.strip() != local_jwe.strip():
            raise BackupError(
                f"repository {config['bucket']}/{host} was created with a different key (is "
                "this a replacement for a lost instance?). Run `ssb-backup adopt-key` to "
                "continue the old repository, after restoring what you need"
            )
        if os.path.exists(state_file(UNUSED_MARK)):
            os.unlink(state_file(UNUSED_MARK))
        return
    s3.put(host + KEY_SUFFIX, local_jwe)
    if (s3.get(host + KEY_SUFFIX) or b"").strip() != local_jwe.strip():
        raise BackupError("the key copy read back from the bucket differs; not initialising")
    repo = Repo(config, host, (s3.access, s3.secret), state_file(PASSWORD_JWE))
    repo.must(["init"], "restic init")
    if os.path.exists(state_file(UNUSED_MARK)):
        os.unlink(state_file(UNUSED_MARK))
    log(f"initialised repository {config['bucket']}/{host}; key copy at {host}{KEY_SUFFIX}")


def run_pre_backup_hook() -> None:
    """Run the operator's hook (e.g. a database dump into a volume) if there is one.

    Only a root-owned file that nobody else can write is run: anything else would let
    another user run code as root.
    """
    path = state_file(PRE_BACKUP_HOOK)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        raise BackupError(f"{path} must be a regular file owned by root, not group/world-writable")
    log(f"running pre-backup hook {path}")
    proc = subprocess.run([path], stdin=subprocess.DEVNULL, stdout=sys.stderr, check=False)
    if proc.returncode != 0:
        raise BackupError(f"pre-backup hook {path} failed (exit {proc.returncode}); no backup made")


def cmd_run(args: argparse.Namespace) -> int:
    config, host = setup(args)
    with Lock():
        local_jwe = ensure_key(config)
        creds = load_credentials(config)
        paths = [guest_path(p) for p in config["paths"]]
        for path in paths:
            # An unmounted volume leaves an empty directory: backing that up would look like
            # data loss and, through the keep policy, push good snapshots out.
            if not os.path.ismount(path):
                raise BackupError(f"{path} is not mounted: refusing to back up an empty mountpoint")
        paths += [guest_path(p) for p in config["system_paths"]]
        s3 = S3(config["endpoint"], config["bucket"], *creds)
        prepare_repository(config, host, s3, local_jwe)
        run_pre_backup_hook()
        repo = Repo(config, host, creds, state_file(PASSWORD_JWE))
        repo.must(["backup", "--host", host, "--tag", "ssb-backup", "--one-file-system",
                   "--exclude-caches", "--", *paths], "restic backup")
        keep = [f"--keep-{k}={v}" for k, v in config["keep"].items()]
        repo.must(["forget", "--host", host, *keep], "restic forget")
    log(f"backup of {host} finished")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    config, host = setup(args)
    creds = load_credentials(config)
    local_jwe = read_file(state_file(PASSWORD_JWE))
    if local_jwe is None:
        raise BackupError("no repository key on this instance: run `ssb-backup init-key`")
    s3 = S3(config["endpoint"], config["bucket"], *creds)
    remote = s3.get(host + KEY_SUFFIX)
    if remote is None and not s3.exists(f"{host}/config"):
        raise BackupError(f"no snapshot of {host} exists: backups are not running (no repository)")
    if remote is None or remote.strip() != local_jwe.strip():
        raise BackupError(f"the bucket holds no copy of this instance's key ({host}{KEY_SUFFIX}):"
                          " a new instance could not restore")
    snaps = Repo(config, host, creds, state_file(PASSWORD_JWE)).snapshots()
    limit = dt.timedelta(seconds=2 * INTERVALS[config["schedule"]])
    if not snaps:
        raise BackupError(f"no snapshot of {host} exists: backups are not running")
    newest = max(parse_time(s["time"]) for s in snaps)
    age = dt.datetime.now(dt.timezone.utc) - newest
    if age > limit:
        raise BackupError(f"the newest snapshot of {host} is {age} old, more than {limit} "
                          f"(twice the {config['schedule']} schedule): backups are failing")
    log(f"ok: newest snapshot of {host} is {age} old ({len(snaps)} snapshots)")
    return 0


def cmd_maintain(args: argparse.Namespace) -> int:
    config, host = setup(args)
    with Lock():
        creds = load_credentials(config)
        repo = Repo(config, host, creds, state_file(PASSWORD_JWE))
        repo.must(["prune"], "restic prune")
        week = dt.datetime.now(dt.timezone.utc).isocalendar()[1]
        repo.must(["check", f"--read-data-subset={(week - 1) % 52 + 1}/52"], "restic check")
    log(f"repository of {host} pruned and checked")
    return 0


def remote_repo(config: dict[str, Any], host: str, creds: tuple[str, str],
                workdir: str) -> Repo:
    """The repository of `host` opened with the key copy from the bucket (not the local one)."""
    s3 = S3(config["endpoint"], config["bucket"], *creds)
    jwe = s3.get(host + KEY_SUFFIX)
    if jwe is None:
        raise BackupError(f"no key copy {config['bucket']}/{host}{KEY_SUFFIX}: no repository?")
    path = os.path.join(workdir, PASSWORD_JWE)
    write_private(path, jwe)
    return Repo(config, host, creds, path)


def cmd_snapshots(args: argparse.Namespace) -> int:
    config, host = setup(args)
    if args.from_host and not HOST_RE.match(args.from_host):
        raise BackupError(f"--from-host {args.from_host!r} is not a hostname")
    host = args.from_host or host
    creds = load_credentials(config)
    with tempfile.TemporaryDirectory(prefix="ssb-backup-") as work:
        repo = remote_repo(config, host, creds, work)
        repo.must(["snapshots", "--host", host], "listing snapshots", to_stdout=True)
    return 0


CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n"  # backups skip a tagged dir
RESTORE_DIR = ".ssb-restore"  # ssb-restore's default place, on the first data volume


def first_volume(config: dict[str, Any], otherwise: str) -> str:
    """The first data volume's mountpoint, where restored data stays encrypted; refused (with
    what to do `otherwise`) when it is not mounted, so nothing lands on the root disk."""
    volume = guest_path(config["paths"][0])
    if not os.path.ismount(volume):
        raise BackupError(f"{volume} is not mounted: {otherwise}")
    return volume


def skipped_by_backups(directory: str) -> str:
    """`directory`, made (0700) and tagged CACHEDIR.TAG: ssb-backup runs with --exclude-caches."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    with open(os.path.join(directory, "CACHEDIR.TAG"), "w", encoding="ascii") as handle:
        handle.write(CACHEDIR_TAG)
    return directory


def on_encrypted_volume(path: str) -> bool:
    """Whether `path` (or its nearest existing parent) is on a LUKS (dm-crypt) device."""
    probe = path
    while not os.path.exists(probe) and probe != os.path.dirname(probe):
        probe = os.path.dirname(probe)
    try:
        found = subprocess.run(["findmnt", "-n", "-o", "SOURCE", "-T", probe],
                               capture_output=True, text=True, timeout=30, check=False)
        source = found.stdout.strip().split("[")[0]
        if not source.startswith("/dev/"):
            return False
        kind = subprocess.run(["lsblk", "-n", "-d", "-o", "TYPE", source],
                              capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return kind.stdout.strip() == "crypt"


def cmd_restore(args: argparse.Namespace) -> int:
    config, host = setup(args)
    host = args.from_host or host
    if args.from_host and not HOST_RE.match(args.from_host):
        raise BackupError(f"--from-host {args.from_host!r} is not a hostname")
    if not SNAPSHOT_RE.match(args.snapshot):
        raise BackupError("snapshot must be 'latest' or a snapshot ID (hex)")
    if args.target:
        target = os.path.abspath(args.target)
        if not on_encrypted_volume(target):
            log(f"warning: {target} is not on a LUKS volume: the restored data is stored "
                "unencrypted there (restore onto an encrypted volume, e.g. without a target)",
                "warning")
    else:
        volume = first_volume(config, "give a target on an encrypted volume (restored data "
                                      "never goes to the root disk by default)")
        base = skipped_by_backups(os.path.join(volume, RESTORE_DIR))
        target = os.path.join(base, f"{host}-{args.snapshot}")
    if os.path.exists(target) and (not os.path.isdir(target) or os.listdir(target)):
        raise BackupError(f"{target} exists and is not empty: restore into an empty directory "
                          "and copy back what you need (live data is never overwritten)")
    os.makedirs(target, mode=0o700, exist_ok=True)
    creds = load_credentials(config)
    with tempfile.TemporaryDirectory(prefix="ssb-restore-") as work:
        repo = remote_repo(config, host, creds, work)
        repo.must(["restore", args.snapshot, "--host", host, "--target", target,
                   *[f"--include={p}" for p in args.include]], "restic restore")
    log(f"restored snapshot {args.snapshot} of {host} into {target}")
    return 0


def cmd_adopt_key(args: argparse.Namespace) -> int:
    config, host = setup(args)
    with Lock():
        creds = load_credentials(config)
        jwe = S3(config["endpoint"], config["bucket"], *creds).get(host + KEY_SUFFIX)
        if jwe is None:
            raise BackupError(f"no key copy {host}{KEY_SUFFIX} in the bucket: nothing to adopt")
        check_key_copy(config, jwe)  # our Tang servers, and they open it
        path = state_file(PASSWORD_JWE)
        old = read_file(path)
        if old is not None and old.strip() != jwe.strip():
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            write_private(f"{path}.replaced-{stamp}", old)
        write_private(path, jwe.strip() + b"\n")
    log(f"this instance now uses the key of repository {config['bucket']}/{host}")
    return 0


# --------------------------------------------------------------------------------------------
# The restore drill.

DRILL_FORMAT = "ssb-restore-drill/1"
DRILL_DIR = ".ssb-restore-drill"  # on the first data volume: restored data stays encrypted
DRILL_MAX_FILES = 200  # a sample's files are named on restic's command line


def _glob_escape(path: str) -> str:
    """A path as a restic --include pattern that matches only itself."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", path)


def _drill_scratch(config: dict[str, Any]) -> str:
    """A fresh directory on the first data volume, never on the (unencrypted) root disk."""
    volume = first_volume(config, "the drill restores only onto the encrypted volume, never "
                                  "onto the root disk")
    scratch = os.path.join(volume, DRILL_DIR)
    shutil.rmtree(scratch, ignore_errors=True)  # what an interrupted drill left
    return skipped_by_backups(scratch)


def _snapshot_files(repo: Repo, snapshot: str) -> dict[str, int]:
    """Path -> size of every regular file in the snapshot (restic ls --json)."""
    proc = repo.must(["ls", "--json", snapshot], "listing the snapshot", capture=True)
    files: dict[str, int] = {}
    for line in (proc.stdout or "").splitlines():
        try:
            node = json.loads(line)
        except ValueError as exc:
            raise BackupError("restic ls returned unreadable JSON") from exc
        if isinstance(node, dict) and node.get("type") == "file" and "path" in node:
            files[str(node["path"])] = int(node.get("size") or 0)
    return files


def _sample(files: dict[str, int], budget: int, seed: str) -> list[str] | None:
    """None: restore everything (it fits). Else a random sample that fits the budget."""
    if sum(files.values()) <= budget:
        return None
    order = sorted(files)
    random.Random(seed).shuffle(order)
    chosen: list[str] = []
    used = 0
    for path in order:
        if used + files[path] <= budget and len(chosen) < DRILL_MAX_FILES:
            chosen.append(path)
            used += files[path]
    return sorted(chosen)


def drill(config: dict[str, Any], host: str) -> dict[str, Any]:
    """Restore and verify; the record says what was restored, from when, and how long it took.

    Raises BackupError with what failed; the caller records that.
    """
    began = time.monotonic()
    creds = load_credentials(config)
    scratch = _drill_scratch(config)
    try:
        with tempfile.TemporaryDirectory(prefix="ssb-drill-") as work:
            repo = remote_repo(config, host, creds, work)  # the bucket's key copy
            snaps = repo.snapshots()
            if not snaps:
                raise BackupError(f"no snapshot of {host} to restore")
            newest = max(snaps, key=lambda s: parse_time(s["time"]))
            snapshot = str(newest["id"])
            files = _snapshot_files(repo, snapshot)
            free = shutil.disk_usage(scratch).free
            budget = min(int(env("SSB_DRILL_BUDGET")), free // 4)
            sample = _sample(files, budget, snapshot)
            if sample == []:
                raise BackupError(f"no file of snapshot {snapshot[:8]} fits the drill's budget "
                                  f"of {budget} bytes (a quarter of the volume's free space, "
                                  "at most SSB_DRILL_BUDGET): nothing could be restored")
            includes = [f"--include={_glob_escape(p)}" for p in sample or []]
            repo.must(["restore", snapshot, "--host", host, "--target", scratch, "--verify",
                       *includes], "restic restore --verify")
            expected = {p: files[p] for p in (sample if sample is not None else files)}
            wrong = [p for p, size in sorted(expected.items())
                     if not os.path.isfile(scratch + p) or os.path.getsize(scratch + p) != size]
            if wrong:
                raise BackupError(f"{len(wrong)} restored files are missing or differ in size "
                                  f"from the snapshot's listing, e.g. {wrong[0]}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    took = time.monotonic() - began
    point = parse_time(newest["time"]).astimezone(dt.timezone.utc)
    restored = sum(expected.values())
    total = sum(files.values())
    scope = ("every file" if sample is None else
             f"a random sample: {len(expected)} of {len(files)} files, {restored} of {total} bytes")
    return {
        "result": "ok",
        "snapshot": snapshot,
        "recovery_point": point.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_s": round(took, 1),
        "files": len(expected), "files_total": len(files),
        "bytes": restored, "bytes_total": total,
        "detail": (f"restored {scope} of snapshot {snapshot[:8]} (recovery point "
                   f"{point:%Y-%m-%dT%H:%M:%SZ}) in {took:.0f} s, with the bucket's key copy; "
                   "restic verified the content against the snapshot's hashes"),
    }


def cmd_drill(args: argparse.Namespace) -> int:
    config, host = setup(args)
    at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with Lock():
        try:
            record = drill(config, host)
        except BackupError as exc:
            record = {"result": "fail", "detail": str(exc)}
    record.update(format=DRILL_FORMAT, at=at, host=host)
    write_private(guest_path(env("SSB_DRILL_STATE")),
                  (json.dumps(record, sort_keys=True) + "\n").encode())
    if record["result"] != "ok":
        log(f"restore drill FAILED: {record['detail']}", "error")
        return 1
    log(f"restore drill ok: {record['detail']}")
    return 0


# On the private network ssb-egress-proxy writes the egress proxy's settings here at boot. The
# units read it through a drop-in; this is for an operator's `sudo ssb-restore` in a session
# that set no proxy (a non-login SSH command, sudo without the login shell's environment).
PROXY_ENV = "/run/safespring-blueprints/egress-proxy.env"
_PROXY_NAMES = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")


def load_proxy_env(path: str) -> None:
    """Take the egress proxy settings from `path` for those the environment does not set."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return
    for line in lines:
        name, sep, value = line.partition("=")
        if sep and name in _PROXY_NAMES:
            os.environ.setdefault(name, value)


def main(argv: list[str] | None = None) -> int:
    load_proxy_env(guest_path(PROXY_ENV))
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", default=None, help="configuration file")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-key", help="make the repository password (first boot)")
    cred = sub.add_parser("credentials", help="store the S3 key pair read from stdin")
    cred.add_argument("--no-verify", action="store_true",
                      help="store without checking the keys against the bucket")
    sub.add_parser("run", help="back up now")
    sub.add_parser("check", help="fail unless a recent snapshot exists")
    sub.add_parser("maintain", help="prune and check the repository")
    snaps = sub.add_parser("snapshots", help="list snapshots")
    snaps.add_argument("--from-host", default=None)
    rest = sub.add_parser("restore", help="restore a snapshot into an empty directory")
    rest.add_argument("--from-host", default=None,
                      help="restore another (e.g. lost) instance's repository")
    rest.add_argument("--include", action="append", default=[],
                      help="restore only this path (repeatable)")
    rest.add_argument("snapshot", nargs="?", default="latest")
    rest.add_argument("target", nargs="?", default=None,
                      help=f"an empty directory (default: on the first volume, in {RESTORE_DIR})")
    sub.add_parser("adopt-key", help="use the bucket's key copy for this hostname")
    sub.add_parser("drill", help="restore drill: restore and verify the newest snapshot")
    args = parser.parse_args(argv)
    args.config = args.config or guest_path(env("SSB_BACKUP_CONFIG"))
    handlers = {
        "init-key": cmd_init_key, "credentials": cmd_credentials, "run": cmd_run,
        "check": cmd_check, "maintain": cmd_maintain, "snapshots": cmd_snapshots,
        "restore": cmd_restore, "adopt-key": cmd_adopt_key, "drill": cmd_drill,
    }
    try:
        return handlers[args.command](args)
    except BackupError as exc:
        log(str(exc), "error")
        return 1


if __name__ == "__main__":
    sys.exit(main())
