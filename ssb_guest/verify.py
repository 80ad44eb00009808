#!/usr/bin/python3
"""ssb-verify: check, on the running instance, that each measure its metadata claims works.

Installed by safespring-blueprints on every instance; ssb-verify.timer runs it shortly after
boot and then hourly (GDPR Art. 32(1)(d): regularly testing the effectiveness of the measures).
It reads the measures the instance claims from its metadata (`ssb_measures`, the way the other
programs read metadata: cloud-init's instance data, else the metadata service), runs the check
of each claimed measure it has one for, and writes ONE journal event per check:

  SYSLOG_IDENTIFIER=ssb-verify  MESSAGE_ID=MESSAGE_ID below
  SSB_MEASURE=<measure>  SSB_RESULT=ok|fail|unknown  SSB_DETAIL=<why, in one line>
  SSB_PERIOD=<seconds until the next run>  MESSAGE=ssb-verify/1 <the same as compact JSON>

The journal fields are for local readers (`journalctl MESSAGE_ID=...`); the MESSAGE carries
everything too, because only the message travels through rsyslog to the log collector, where
ssb-evidence reads it. A measure it has no check for is not reported; a check that cannot tell
says `unknown` and why, it never guesses. Exit status 0 once the checks ran, whatever they
found (a failed check is an event, not a failed unit that would mark the system degraded).

Everything it touches can be redirected for tests through the environment (ENV_DEFAULTS).
Python 3.10 standard library only (see ssb_guest/__init__.py).
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

PROG = "ssb-verify"
FORMAT = "ssb-verify/1"  # the prefix of every event's MESSAGE; ssb-evidence reads it
MESSAGE_ID = "5f1c3a0e8b9d4c6fa2e7b1d09c3e4a51"  # stable: journalctl MESSAGE_ID=...
PERIOD = 3600  # seconds between runs (ssb-verify.timer: hourly)
COMMAND_TIMEOUT = 60  # hang guard for each command a check runs; they take well under a second
AIDE_MAX_AGE = 26 * 3600  # the daily AIDE check, with the timer's randomised hour of delay
BACKUP_CHECK_MAX_AGE = 2 * 3600  # the hourly backup freshness check, one run missed at most
DRILL_MAX_AGE = 8 * 86400 + 2 * 3600  # the weekly restore drill, with its timer's delay
# Caddy renews an ACME certificate 30 days before it ends (a third of Let's Encrypt's 90): one
# with fewer days left than this is one whose renewal has been failing for two weeks or more,
# or a provided certificate nobody replaced.
CERT_MIN_DAYS = 14

ENV_DEFAULTS: dict[str, str] = {
    # Comma-separated; cloud-init's instance data first (any datasource), then the service.
    "SSB_METADATA_SOURCES": "/run/cloud-init/instance-data.json,"
                            "http://169.254.169.254/openstack/latest/meta_data.json",
    "SSB_JOURNAL_SOCKET": "/run/systemd/journal/socket",
    "SSB_JOURNAL_DIR": "/var/log/journal",
    "SSB_LUKS_CONFIG": "/etc/safespring-blueprints/luks-tang.json",
    "SSB_BY_ID_DIR": "/dev/disk/by-id",
    "SSB_MAPPER_DIR": "/dev/mapper",
    "SSB_AIDE_DB": "/var/lib/aide/safespring-blueprints/aide.db.gz",
    "SSB_LOG_TLS_DIR": "/etc/safespring-blueprints/logging",
    "SSB_SPOOL_DIR": "/var/spool/rsyslog",
    "SSB_DRILL_STATE": "/var/lib/ssb-backup/restore-drill.json",  # ssb-backup drill writes it
    "SSB_ENDPOINTS": "/etc/safespring-blueprints/proxy/endpoints.json",
    "SSB_ENDPOINT_ADDRESS": "127.0.0.1",
}


def env(name: str) -> str:
    return os.environ.get(name, ENV_DEFAULTS[name])


def log(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


class Result:
    """One check's outcome."""

    def __init__(self, result: str, detail: str) -> None:
        assert result in ("ok", "fail", "unknown")
        self.result = result
        self.detail = " ".join(detail.split())  # one line


def ok(detail: str) -> Result:
    return Result("ok", detail)


def fail(detail: str) -> Result:
    return Result("fail", detail)


def unknown(detail: str) -> Result:
    return Result("unknown", detail)


# --------------------------------------------------------------------------------------------
# What the instance is and claims.


def _read_source(source: str) -> dict[str, Any] | None:
    try:
        if source.startswith(("http://", "https://")):
            with urllib.request.urlopen(source, timeout=5) as resp:
                raw = resp.read()
        else:
            if not os.path.exists(source):
                return None
            with open(source, "rb") as handle:
                raw = handle.read()
        doc = json.loads(raw.decode("utf-8"))
    except (OSError, urllib.error.URLError, ValueError) as exc:
        log(f"metadata source {source} not readable: {exc}")
        return None
    if not isinstance(doc, dict):
        return None
    # cloud-init's instance data keeps the datasource's own metadata under ds.meta_data.
    inner = doc.get("ds", {}).get("meta_data") if isinstance(doc.get("ds"), dict) else None
    return inner if isinstance(inner, dict) else doc


def metadata() -> dict[str, Any] | None:
    """The OpenStack metadata document (uuid, name, meta) from the first source that has one."""
    for source in [s for s in env("SSB_METADATA_SOURCES").split(",") if s]:
        doc = _read_source(source)
        if doc is not None:
            return doc
    return None


def claimed(doc: dict[str, Any]) -> list[str]:
    """The measures in metadata `ssb_measures` (commas or spaces), in their order."""
    meta = doc.get("meta")
    value = meta.get("ssb_measures") if isinstance(meta, dict) else None
    if not isinstance(value, str):
        return []
    return [m for m in value.replace(",", " ").split() if m]


# --------------------------------------------------------------------------------------------
# Checks. Each returns a Result; a command that cannot run makes the check `unknown`.


class CannotTell(Exception):
    """The check could not find out (a command missing or hanging): result unknown."""


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    if shutil.which(argv[0]) is None:
        raise CannotTell(f"{argv[0]} is not installed")
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                              check=False)
    except subprocess.TimeoutExpired:
        raise CannotTell(f"`{' '.join(argv)}` did not answer in {COMMAND_TIMEOUT} s") from None
    except OSError as exc:
        raise CannotTell(f"`{' '.join(argv)}` could not run: {exc}") from None


def unit_state(unit: str) -> str:
    """systemd's word for the unit (active, inactive, failed, unknown: not installed)."""
    proc = run(["systemctl", "is-active", unit])
    if not proc.stdout.strip():  # systemd did not answer (not running, no bus)
        raise CannotTell(f"systemctl is-active {unit}: {proc.stderr.strip()[:160]}")
    return proc.stdout.strip()


def unit_show(unit: str, *props: str) -> dict[str, str]:
    proc = run(["systemctl", "show", unit, "--timestamp=unix",
                *[f"--property={p}" for p in props]])
    if proc.returncode != 0:
        raise CannotTell(f"systemctl show {unit}: {proc.stderr.strip()[:160]}")
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def _unix(value: str) -> float | None:
    """systemd's `--timestamp=unix` value (`@1700000000`), None when never."""
    value = value.strip()
    if value.startswith("@") and value[1:].isdigit() and int(value[1:]) > 0:
        return float(value[1:])
    return None


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_audit() -> Result:
    """auditd runs, the kernel audits, and rules are loaded."""
    state = unit_state("auditd.service")
    if state != "active":
        return fail(f"auditd.service is {state}: audit events are not recorded by auditd")
    status = run(["auditctl", "-s"])
    if status.returncode != 0:
        return unknown(f"auditctl -s failed: {status.stderr.strip()[:200]}")
    enabled = [ln.split()[1] for ln in status.stdout.splitlines()
               if ln.startswith("enabled ") and len(ln.split()) > 1]
    if not enabled:
        return unknown("auditctl -s does not say whether auditing is enabled")
    if enabled[0] == "0":
        return fail("auditd is active but the kernel's auditing is disabled (enabled 0)")
    rules = run(["auditctl", "-l"])
    if rules.returncode != 0:
        return unknown(f"auditctl -l failed: {rules.stderr.strip()[:200]}")
    count = sum(1 for ln in rules.stdout.splitlines() if ln.startswith("-"))
    if count == 0:
        return fail("auditd is active but no audit rules are loaded")
    locked = " (locked until reboot)" if enabled[0] == "2" else ""
    return ok(f"auditd active, auditing enabled {enabled[0]}{locked}, {count} rules loaded")


def check_local_logs() -> Result:
    """The journal is written to disk (persistent), not only to /run."""
    state = unit_state("systemd-journald.service")
    if state != "active":
        return fail(f"systemd-journald.service is {state}")
    machine_id = ""
    try:
        with open("/etc/machine-id", encoding="ascii") as handle:
            machine_id = handle.read().strip()
    except OSError as exc:
        return unknown(f"cannot read /etc/machine-id: {exc}")
    directory = os.path.join(env("SSB_JOURNAL_DIR"), machine_id)
    system = os.path.join(directory, "system.journal")
    if not os.path.isfile(system):
        return fail(f"no {system}: the journal is not persistent (kept in /run only)")
    age = dt.datetime.now().timestamp() - os.stat(system).st_mtime
    return ok(f"persistent journal in {directory} (last written {int(age)} s ago)")


def _volume_device(volume: dict[str, Any], meta: dict[str, Any]) -> str | None:
    key = volume.get("metadata_key")
    volume_id = meta.get(key) if isinstance(key, str) else None
    if not isinstance(volume_id, str) or not volume_id:
        return None
    return os.path.join(env("SSB_BY_ID_DIR"), "virtio-" + volume_id[:20])


ROTATED = "not in the current advertisement"  # what `clevis luks report` prints of such keys


# The Clevis slots of `clevis luks list` output (`1: sss '{...}'`).
def _slots(listing: str) -> list[str]:
    return [line.split(":", 1)[0].strip() for line in listing.splitlines()
            if line.split(":", 1)[0].strip().isdigit()]


# (slots bound to a Tang key its server no longer advertises, slots not compared).
def _rotated(device: str, slots: list[str]) -> tuple[list[str], list[str]]:
    # A rotated key still unlocks while Tang keeps it hidden; once removed, the volume cannot
    # be opened again: `clevis luks regen` must rebind first. `report` asks each Tang server.
    rotated: list[str] = []
    unchecked: list[str] = []
    for slot in slots:
        try:
            found = run(["clevis", "luks", "report", "-q", "-d", device, "-s", slot])
        except CannotTell:
            unchecked.append(slot)
            continue
        if ROTATED in found.stdout:
            rotated.append(slot)
        elif found.returncode != 0:
            unchecked.append(slot)
    return rotated, unchecked


def check_luks_tang(doc: dict[str, Any]) -> Result:
    """Every configured volume is open, and its LUKS header carries a Tang (Clevis) pin whose
    key the Tang server still advertises."""
    try:
        with open(env("SSB_LUKS_CONFIG"), encoding="utf-8") as handle:
            volumes = json.load(handle).get("volumes", [])
    except (OSError, ValueError, AttributeError) as exc:
        return unknown(f"cannot read {env('SSB_LUKS_CONFIG')}: {exc}")
    if not volumes:
        return unknown(f"{env('SSB_LUKS_CONFIG')} lists no volume")
    meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    failed: list[str] = []
    unsure: list[str] = []
    good: list[str] = []
    for volume in volumes:
        name = str(volume.get("name", "?"))
        device = _volume_device(volume, meta)
        if device is None:
            unsure.append(f"{name}: its volume ID is not in the metadata")
            continue
        if not os.path.exists(device):
            failed.append(f"{name}: {device} is not attached")
            continue
        mapper = os.path.join(env("SSB_MAPPER_DIR"), "ssb-" + name)
        if not os.path.exists(mapper):
            failed.append(f"{name}: not open ({mapper} does not exist)")
            continue
        real = os.path.realpath(device)
        pins = run(["clevis", "luks", "list", "-d", real])
        if pins.returncode != 0:
            unsure.append(f"{name}: clevis luks list failed ({pins.stderr.strip()[:120]})")
            continue
        if not any(ln.split(":", 1)[-1].strip().startswith("tang ") or '"tang"' in ln
                   for ln in pins.stdout.splitlines()):  # a tang pin, or tang inside sss
            failed.append(f"{name}: open, but its LUKS header carries no Tang pin")
            continue
        rotated, unchecked = _rotated(real, _slots(pins.stdout))
        if rotated:
            failed.append(f"{name}: slot {', '.join(rotated)} is bound to a Tang key the server no "
                          f"longer advertises (rotated): run `clevis luks regen -d {real} -s "
                          f"{rotated[0]}` while Tang still holds the old key")
        elif unchecked:
            unsure.append(f"{name}: open, Tang pin in the header; whether Tang still advertises "
                          f"its key is unknown (clevis luks report failed for slot "
                          f"{', '.join(unchecked)}: is Tang reachable?)")
        else:
            good.append(f"{name}: open, bound to a key Tang advertises")
    everything = "; ".join(failed + unsure + good)
    if failed:
        return fail(everything)
    if unsure:
        return unknown(everything)
    return ok(everything)


def _last_run(unit: str) -> tuple[str, str, float | None]:
    """(Result, ExecMainStatus, exit time) of a oneshot unit's last run since boot."""
    shown = unit_show(unit, "Result", "ExecMainStatus", "ExecMainExitTimestamp")
    return (shown.get("Result", ""), shown.get("ExecMainStatus", ""),
            _unix(shown.get("ExecMainExitTimestamp", "")))


def check_file_integrity() -> Result:
    """The daily AIDE check ran lately and found nothing changed."""
    if not os.path.exists(env("SSB_AIDE_DB")):
        if unit_state("ssb-aide-init.service") == "activating":
            return unknown("the AIDE baseline is being made (ssb-aide-init.service runs)")
        return fail(f"no AIDE baseline ({env('SSB_AIDE_DB')} does not exist)")
    result, status, when = _last_run("ssb-aide-check.service")
    if when is None:
        return unknown("the AIDE check has not run since boot (ssb-aide-check.timer runs it "
                       "daily); its baseline exists")
    age = dt.datetime.now().timestamp() - when
    at = _iso(when)
    if result == "success":
        if age > AIDE_MAX_AGE:
            return fail(f"the last AIDE check was at {at}, {int(age // 3600)} h ago "
                        "(it runs daily)")
        return ok(f"last AIDE check at {at}: no file added, removed or changed")
    if status.isdigit() and 1 <= int(status) <= 7:
        return fail(f"the AIDE check at {at} found files added, removed or changed "
                    f"(exit status {status}; the report is in the journal, ssb-aide)")
    return fail(f"the AIDE check at {at} did not complete (result {result}, status {status})")


def _not_after(enddate: str) -> dt.datetime | None:
    """`openssl x509 -noout -enddate`'s `notAfter=Feb  1 00:00:00 2020 GMT`, or None."""
    try:
        return dt.datetime.strptime(enddate.strip().split("=", 1)[1],
                                    "%b %d %H:%M:%S %Y %Z").replace(tzinfo=dt.timezone.utc)
    except (IndexError, ValueError):
        return None


def check_log_shipping() -> Result:
    """rsyslog runs with a valid client certificate; says how much waits on disk."""
    state = unit_state("rsyslog.service")
    if state != "active":
        return fail(f"rsyslog.service is {state}: nothing is shipped to the collector")
    cert = os.path.join(env("SSB_LOG_TLS_DIR"), "client.pem")
    if not os.path.exists(cert):
        return fail(f"no client certificate ({cert}): logs queue on this instance and are "
                    "not shipped (ssb-log-pki install)")
    end = run(["openssl", "x509", "-in", cert, "-noout", "-enddate"])
    if end.returncode != 0:
        return unknown(f"cannot read {cert}: {end.stderr.strip()[:120]}")
    until = _not_after(end.stdout)
    if until is None:
        return unknown(f"cannot read the end date of {cert}: {end.stdout.strip()[:80]}")
    days = (until - dt.datetime.now(dt.timezone.utc)).total_seconds() / 86400
    if days <= 0:
        return fail(f"the client certificate ended at {until:%Y-%m-%dT%H:%M:%SZ}: the "
                    "collector refuses this instance, logs queue")
    queued = sum(os.path.getsize(p) for p in
                 glob.glob(os.path.join(env("SSB_SPOOL_DIR"), "ssb-collector*"))
                 if os.path.isfile(p))
    return ok(f"rsyslog active, client certificate valid {int(days)} more days, "
              f"{queued} bytes queued on disk for the collector (the last delivery is not "
              "recorded on the instance)")


def check_backup_freshness() -> Result:
    """The hourly backup freshness check (ssb-backup-check) last passed, and lately."""
    result, status, when = _last_run("ssb-backup-check.service")
    if when is None:
        return unknown("the backup freshness check has not run since boot "
                       "(its timer runs it hourly, from 30 min after boot)")
    age = dt.datetime.now().timestamp() - when
    at = _iso(when)
    if result != "success":
        return fail(f"the backup freshness check at {at} failed (result {result}, status "
                    f"{status}): no recent backup (see journalctl -t ssb-backup-check)")
    if age > BACKUP_CHECK_MAX_AGE:
        return fail(f"the backup freshness check last ran at {at}, {int(age // 60)} min ago "
                    "(it runs hourly)")
    return ok(f"the backup freshness check at {at} found a recent backup")


def check_restore_drill() -> Result:
    """The weekly restore drill (ssb-backup drill) last succeeded, and lately."""
    path = env("SSB_DRILL_STATE")
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except FileNotFoundError:
        return unknown("no restore drill has run on this instance yet (ssb-backup-drill.timer "
                       "runs one weekly; `systemctl start ssb-backup-drill` runs one now)")
    except (OSError, ValueError) as exc:
        return unknown(f"cannot read {path}: {exc}")
    if not isinstance(record, dict) or record.get("format") != "ssb-restore-drill/1":
        return unknown(f"{path} is not a restore drill record")
    try:
        when = dt.datetime.strptime(str(record.get("at")), "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return unknown(f"{path} has no readable time")
    at = record["at"]
    age = dt.datetime.now(dt.timezone.utc) - when.replace(tzinfo=dt.timezone.utc)
    if record.get("result") != "ok":
        return fail(f"the restore drill at {at} failed: {record.get('detail', '?')}")
    if age.total_seconds() > DRILL_MAX_AGE:
        return fail(f"the last restore drill was at {at}, {age.days} days ago (it runs weekly)")
    return ok(f"restore drill at {at}: {record.get('detail', '')}")


def _served_certificate(address: str, port: int, hostname: str) -> bytes:
    """The certificate the endpoint serves for `hostname` (DER), as any client gets it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the days left are the question, not the issuer
    with socket.create_connection((address, port), timeout=COMMAND_TIMEOUT) as raw, \
            context.wrap_socket(raw, server_hostname=hostname) as tls:
        der = tls.getpeercert(binary_form=True)
    if not der:
        raise ssl.SSLError("no certificate in the handshake")
    return der


def _end_date(der: bytes) -> dt.datetime:
    with tempfile.NamedTemporaryFile(suffix=".der") as handle:
        handle.write(der)
        handle.flush()
        end = run(["openssl", "x509", "-inform", "DER", "-in", handle.name, "-noout",
                   "-enddate"])
    until = _not_after(end.stdout)
    if until is None:
        raise CannotTell(f"cannot read the certificate's end date: {end.stdout.strip()[:80]} "
                         f"{end.stderr.strip()[:80]}")
    return until


# generator side: not installed
# SSB_ENDPOINTS as the generator writes it: check_tls_endpoint() below reads what this writes
# (`name` is for whoever reads the file; the check connects by hostname).
def endpoints_config(*, port: int, endpoints: list[tuple[str, str, str]]) -> dict[str, Any]:
    """The endpoints Caddy serves on `port`, each (name, hostname, certificate: acme|provided)."""
    return {"port": port, "endpoints": [{"name": name, "hostname": hostname, "certificate": kind}
                                        for name, hostname, kind in endpoints]}


# end of generator side
def check_tls_endpoint() -> Result:
    """Every endpoint serves a certificate with more than CERT_MIN_DAYS days left."""
    path = env("SSB_ENDPOINTS")
    try:
        with open(path, encoding="utf-8") as handle:
            served = json.load(handle)
        port = int(served["port"])
        endpoints = [(str(e["hostname"]), str(e.get("certificate", ""))) for e in
                     served["endpoints"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return unknown(f"cannot read {path}: {exc}")
    state = unit_state("caddy.service")
    if state != "active":
        return fail(f"caddy.service is {state}: no endpoint is served")
    failed: list[str] = []
    good: list[str] = []
    now = dt.datetime.now(dt.timezone.utc)
    for hostname, certificate in endpoints:
        try:
            der = _served_certificate(env("SSB_ENDPOINT_ADDRESS"), port, hostname)
        except (OSError, ssl.SSLError) as exc:
            why = ("no ACME certificate yet, or the handshake failed" if certificate == "acme"
                   else "the provided certificate is missing or unreadable")
            failed.append(f"{hostname}: no TLS handshake on port {port} ({why}: {exc})")
            continue
        until = _end_date(der)
        days = (until - now).total_seconds() / 86400
        if days <= 0:
            failed.append(f"{hostname}: the certificate ended at {until:%Y-%m-%dT%H:%M:%SZ}")
        elif days < CERT_MIN_DAYS:
            renew = ("its renewal is failing (Caddy renews 30 days ahead)" if certificate == "acme"
                     else "replace the provided certificate")
            failed.append(f"{hostname}: the certificate ends in {int(days)} days "
                          f"({until:%Y-%m-%dT%H:%M:%SZ}): {renew}")
        else:
            good.append(f"{hostname}: certificate valid {int(days)} more days")
    if failed:
        return fail("; ".join(failed + good))
    return ok("; ".join(good))


CHECKS: dict[str, Callable[[dict[str, Any]], Result]] = {
    "audit": lambda doc: check_audit(),
    "local-logs": lambda doc: check_local_logs(),
    "luks-tang": check_luks_tang,
    "file-integrity": lambda doc: check_file_integrity(),
    "log-shipping-tls": lambda doc: check_log_shipping(),
    "backup-freshness-check": lambda doc: check_backup_freshness(),
    # The restic backups' own check is whether they restore: the weekly restore drill.
    "backup-restic": lambda doc: check_restore_drill(),
    "tls-endpoint": lambda doc: check_tls_endpoint(),
}


# --------------------------------------------------------------------------------------------
# Events.


def event(measure: str, outcome: Result, doc: dict[str, Any], at: dt.datetime) -> dict[str, Any]:
    return {
        "measure": measure,
        "result": outcome.result,
        "detail": outcome.detail,
        "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "period": PERIOD,
        "instance": str(doc.get("uuid", "")),
        "name": str(doc.get("name", "")),
    }


def message(record: dict[str, Any]) -> str:
    return f"{FORMAT} {json.dumps(record, sort_keys=True, separators=(',', ':'))}"


def _field(key: str, value: str) -> bytes:
    data = value.encode("utf-8")
    if b"\n" not in data:
        return key.encode() + b"=" + data + b"\n"
    return key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"


def send(record: dict[str, Any]) -> None:
    """The event to the journal (native protocol), else as a line on stdout."""
    priority = {"ok": "6", "unknown": "4", "fail": "3"}[record["result"]]
    fields = {
        "MESSAGE": message(record),
        "MESSAGE_ID": MESSAGE_ID,
        "PRIORITY": priority,
        "SYSLOG_IDENTIFIER": PROG,
        "SYSLOG_FACILITY": "3",  # daemon
        "SSB_MEASURE": record["measure"],
        "SSB_RESULT": record["result"],
        "SSB_DETAIL": record["detail"],
        "SSB_PERIOD": str(record["period"]),
    }
    path = env("SSB_JOURNAL_SOCKET")
    if path == "-" or not os.path.exists(path):
        print(fields["MESSAGE"], flush=True)
        return
    payload = b"".join(_field(k, v) for k, v in fields.items())
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(payload, path)


def main(argv: list[str]) -> int:
    if argv[1:] not in ([], ["run"]):
        print(f"usage: {PROG} [run]", file=sys.stderr)
        return 2
    doc = metadata()
    if doc is None:
        log("no metadata source answered: the claimed measures are not known, nothing checked")
        record = event("metadata", unknown("no metadata source answered"), {},
                       dt.datetime.now(dt.timezone.utc))
        send(record)
        return 0
    for measure in claimed(doc):
        check = CHECKS.get(measure)
        if check is None:
            continue
        try:
            outcome = check(doc)
        except CannotTell as exc:
            outcome = unknown(str(exc))
        send(event(measure, outcome, doc, dt.datetime.now(dt.timezone.utc)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
