"""An application group's guest configuration in life: the `app` group of tests/vm/specs (an
encrypted volume, backups to S3 on the other site, logs shipped to the collector, audit and
file-integrity monitoring), booted from its generated user data in QEMU.

The group is on the `private` network, as the bundled example's database: its VM has a
restricted QEMU network with no route out, and reaches the outside only through the egress
proxy (the generated squid configuration, run on the host: see tests/vm/services.py), besides
the log collector (a flow inside the deployment). So apt, the Tang binding and unlock and the
backups below all go through the proxy's allow-list.

One instance's life, in order; each step starts from where the previous one left it:
first boot with Tang down, Tang returns and the volume is formatted, backups and a restore, a
host not on the allow-list refused, log shipping, the self-check (ssb-verify) from the guest's
journal to the collector's evidence export and `report --evidence`, auditd stopped and reported
FAIL, a reboot with Tang down, and a replacement instance (a new root disk on Debian 13, the same
volume and bucket). A power cut in the middle
of the first formatting is not booted here (it cost a boot the CI budget needed for the proxy):
tests/guest crashes each formatting step on loop devices instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import urllib3
from botocore.config import Config

from generator.features.logging.guest import TLS_DIR, log_collector
from tests.guest_logging.harness import PKI_ENV, Listener, remote_text, write_files
from tests.vm import addresses
from tests.vm.image import Image
from tests.vm.lab import BACKUP_BUCKET, Lab, boot, lab, self_check, timed, wait
from tests.vm.machine import VM, GuestError, Volume, free_port
from tests.vm.services import FAKE_AWS_ENV, Forward

HOST = "vmtest-app-1"
DATA = "/srv/data"
# Hang guard, not a speed claim: shutdown takes 5-10 s here; a unit that hangs on stop (the
# LUKS volumes once did) holds it until systemd's 90 s stop timeout kills it, far above that.
SHUTDOWN_LIMIT = 90.0  # seconds from `systemctl reboot` to the reset
VOLUME_READY = 900.0  # Tang back -> formatted/unlocked and mounted (retried every minute)

# What a customer's own service that writes to the volume declares (the ssb-volumes.target
# comment and the blueprint README say so): it must never start on the empty mountpoint.
WRITER_UNIT = """[Unit]
Description=stands in for the customer's database
Requires=ssb-volumes.target
After=ssb-volumes.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'date +%%s.%%N >> /srv/data/writer-started'

[Install]
WantedBy=ssb-volumes.target
"""


@dataclass
class App:
    lab: Lab
    vm: VM
    volume: Volume
    collector_root: Path
    collector_pki: Path
    collector: Listener


def _s3(lab_: Lab):  # type: ignore[no-untyped-def]
    urllib3.disable_warnings()
    return boto3.client("s3", endpoint_url=lab_.s3_url, region_name="us-east-1",
                        aws_access_key_id=FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
                        verify=False, config=Config(s3={"addressing_style": "path"}))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, vm_blueprint: Path, debian12: Image,
        ssh_key: Path) -> Iterator[App]:
    work = tmp_path_factory.mktemp("vm-app")
    with lab(work, vm_blueprint, "app", ssh_key) as the_lab:
        the_lab.start_services(debian12)
        # The deployment's log collector, run on the host (the collector group has its own
        # test): the generated collector configuration, under a temporary root.
        root = work / "collector"
        root.mkdir()
        port = free_port()
        write_files(log_collector(retention_days=30, encrypted_volume=False,
                                  root=f"{root}/", bind_address="127.0.0.1",
                                  clients_port=port))
        (root / "var/lib/ssb-log-collector").mkdir(parents=True)
        pki = root / "usr/local/sbin/ssb-log-pki"
        subprocess.run([str(pki), "init", "--dir", str(root / TLS_DIR)], check=True,
                       capture_output=True)
        collector = Listener(root / "etc/safespring-blueprints/logging/collector.conf", port)
        the_lab.stack.callback(collector.close)
        assert collector.proc.poll() is None
        the_lab.forwards.append(Forward(addresses.COLLECTOR, 6514, port))
        _s3(the_lab).create_bucket(Bucket=BACKUP_BUCKET, ObjectLockEnabledForBucket=True)
        _s3(the_lab).put_object_lock_configuration(Bucket=BACKUP_BUCKET, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
        volume = the_lab.volumes()[0]
        vm = the_lab.new_vm(debian12, "instance-1", hostname=HOST, volumes=[volume])
        yield App(the_lab, vm, volume, root, pki, collector)


def _device(app: App) -> str:
    return f"/dev/disk/by-id/virtio-{app.volume.serial}"


def _state(vm: VM, unit: str) -> str:
    return vm.ssh(f"systemctl show -p ActiveState,SubState --value {unit} | paste -sd/",
                  check=False).stdout.strip()


def _immutable_mountpoint(vm: VM) -> None:
    """Nothing can be written where the volume is not mounted (the boot disk is not LUKS)."""
    assert vm.ssh(f"mountpoint -q {DATA}", check=False).returncode != 0
    write = vm.ssh(f"touch {DATA}/on-the-boot-disk", check=False)
    assert write.returncode != 0 and "Operation not permitted" in write.stderr, write
    assert vm.ssh(f"ls -A {DATA}").stdout == ""


def test_first_boot_with_tang_down_leaves_the_volume_untouched(app: App) -> None:
    app.lab.tang_down()
    status = boot(app.vm, "app first boot (Tang down)")
    assert "status: done" in status, status
    # ssb-volumes first reads the whole volume to prove it empty (minutes under emulation),
    # then asks Tang, finds it down and leaves the volume as it is, retrying every minute.
    app.vm.wait_until("journalctl -u ssb-volumes.service | grep -q 'left untouched'",
                      timeout=VOLUME_READY)
    state = _state(app.vm, "ssb-volumes.service")
    assert state in ("activating/auto-restart", "activating/start"), state
    assert not app.vm.ssh(f"findmnt -n {DATA}", check=False).stdout.strip()
    assert app.vm.ssh(f"blkid -p {_device(app)}", check=False).returncode == 2
    assert app.vm.ssh(f"cmp -n 1048576 {_device(app)} /dev/zero").returncode == 0
    _immutable_mountpoint(app.vm)
    # The instance booted all the same, and everything that needs no volume runs.
    running = app.vm.ssh("systemctl is-system-running", check=False).stdout.strip()
    assert running in ("running", "starting"), running
    assert app.vm.ssh("systemctl is-active auditd rsyslog ssh").stdout.split() == ["active"] * 3


def test_tang_returns_then_the_volume_is_ready(app: App) -> None:
    """Tang comes back: the next retry, through the proxy, formats, binds and mounts."""
    app.lab.tang_up()
    took = app.vm.wait_until("systemctl is-active -q ssb-volumes.target", timeout=VOLUME_READY)
    timed("app: Tang back -> volume formatted, unlocked, mounted (via the proxy)", took)
    journal = app.vm.journal("ssb-volumes.service")
    assert "run: clevis luks bind" in journal, journal
    dump = app.vm.ssh(f"cryptsetup luksDump {_device(app)}").stdout
    assert "clevis" in dump
    keyslots = dump.split("Keyslots:")[1].split("Tokens:")[0]
    assert [ln.split(":")[0].strip() for ln in keyslots.splitlines()
            if ln.strip().endswith("luks2")] == ["1"], dump  # only the Tang-bound slot
    assert app.vm.ssh(f"findmnt -n -o SOURCE,FSTYPE {DATA}").stdout.split() == [
        "/dev/mapper/ssb-data", "ext4"]
    assert "LABEL=ssb-data" in app.vm.ssh(f"blkid -p -o export {_device(app)}").stdout
    # Intrusion detection: the audit rules are loaded and locked, AIDE has its baseline.
    assert "enabled 2" in app.vm.ssh("auditctl -s").stdout
    took = app.vm.wait_until("test -s /var/lib/aide/safespring-blueprints/aide.db.gz",
                             timeout=900)
    assert app.vm.ssh("systemctl show -p Result --value ssb-aide-init.service").stdout.strip() \
        == "success"
    assert app.vm.ssh("test -d /var/log/journal").returncode == 0  # persistent journal


def test_backup_and_restore_through_the_s3_endpoint(app: App) -> None:
    vm = app.vm
    vm.ssh(f"echo 'journal entry 1' > {DATA}/patient.txt")
    creds = f"{FAKE_AWS_ENV['AWS_ACCESS_KEY_ID']} {FAKE_AWS_ENV['AWS_SECRET_ACCESS_KEY']}"
    vm.ssh("/usr/local/sbin/ssb-backup-credentials", stdin=creds.encode())
    began = time.monotonic()
    vm.ssh("systemctl start ssb-backup.service", timeout=1200)
    timed("app: first backup (restic init + backup)", time.monotonic() - began)
    assert vm.ssh("/usr/local/sbin/ssb-backup-check").returncode == 0
    # Without a target: onto the encrypted volume (never the root disk), skipped by backups.
    vm.ssh("/usr/local/sbin/ssb-restore latest", timeout=900)
    restored = f"{DATA}/.ssb-restore/{HOST}-latest"
    assert vm.ssh(f"cat {restored}{DATA}/patient.txt").stdout == "journal entry 1\n"
    assert vm.ssh(f"findmnt -n -o SOURCE -T {restored}").stdout.strip() == "/dev/mapper/ssb-data"
    vm.ssh(f"rm -r {DATA}/.ssb-restore && touch /var/tmp/first-root-disk")
    # The weekly restore drill, now: onto the encrypted volume, verified, removed again.
    began = time.monotonic()
    vm.ssh("systemctl start ssb-backup-drill.service", timeout=1200)
    timed("app: restore drill (restore --verify of the newest snapshot)", time.monotonic() - began)
    drill = json.loads(vm.ssh("cat /var/lib/ssb-backup/restore-drill.json").stdout)
    assert drill["result"] == "ok" and "restored every file" in drill["detail"], drill
    assert vm.ssh(f"test -e {DATA}/.ssb-restore-drill", check=False).returncode != 0
    # The bucket holds the repository and the key copy; nothing in it is readable data.
    s3 = _s3(app.lab)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BACKUP_BUCKET)["Contents"]]
    assert f"{HOST}.restic-password.jwe" in keys and f"{HOST}/config" in keys
    for key in keys:
        body = s3.get_object(Bucket=BACKUP_BUCKET, Key=key)["Body"].read()
        assert b"journal entry 1" not in body, key


def test_only_the_proxy_reaches_out_and_it_refuses_unlisted_hosts(app: App) -> None:
    """Everything above went through the proxy: apt to the mirror, Clevis to Tang, restic to
    S3. The guest has no other way out, and a host not on the allow-list is refused and
    logged."""
    proxy = app.lab.proxy
    assert proxy is not None
    log = proxy.log_text()
    assert f"http://{addresses.MIRROR_NAME}/" in log  # apt
    assert f"http://{addresses.TANG_NAME}/adv" in log  # Clevis
    assert "CONNECT s3.sto1.safedc.net:443" in log  # restic, the key copy
    # Not listed: refused by the proxy, and the refusal is logged.
    probe = "set -a; . /run/safespring-blueprints/egress-proxy.env; set +a; curl -s -o /dev/null " \
            "-w '%{http_code}' --max-time 30 http://refused.example.org/exfiltrate"
    assert app.vm.ssh(probe, check=False).stdout == "403"
    wait(lambda: "TCP_DENIED/403" in proxy.log_text()
         and "refused.example.org/exfiltrate" in proxy.log_text(), 30)
    tunnel = "set -a; . /run/safespring-blueprints/egress-proxy.env; set +a; curl -s -o /dev/null " \
             "-w '%{http_code}' --max-time 30 https://refused.example.org/"
    assert app.vm.ssh(tunnel, check=False).stdout in ("000", "403")
    wait(lambda: "CONNECT refused.example.org:443" in proxy.log_text(), 30)
    # No route around it: Tang's and S3's addresses on QEMU's network are not forwarded.
    direct = app.vm.ssh(f"curl -s --noproxy '*' --max-time 10 http://{addresses.TANG}/adv",
                        check=False)
    assert direct.returncode != 0, direct


def _issue_and_install(app: App) -> None:
    """The administrator's steps: issue on the collector, copy, install on the client."""
    bundle = app.collector_root / TLS_DIR / "issued" / HOST
    if not bundle.exists():
        subprocess.run([str(app.collector_pki), "issue", HOST, "--dir",
                        str(app.collector_root / TLS_DIR), "--address", addresses.COLLECTOR],
                       check=True, capture_output=True, env={**os.environ, **PKI_ENV})
        app.collector.restart()  # what ssb-log-pki's systemctl try-restart does on a collector
    for name in ("ca.pem", "client.pem", "client.key", "collector-address"):
        app.vm.put(f"/root/log-bundle/{name}", (bundle / name).read_bytes())
    app.vm.ssh("/usr/local/sbin/ssb-log-pki install /root/log-bundle && rm -r /root/log-bundle")


def test_logs_reach_the_collector_over_mutual_tls(app: App) -> None:
    vm = app.vm
    # Before it has a certificate the client only queues (and never sends in plaintext).
    vm.ssh("logger -t vmtest QUEUED-BEFORE-CERTIFICATE")
    time.sleep(15)
    assert "QUEUED-BEFORE-CERTIFICATE" not in remote_text(app.collector_root)
    _issue_and_install(app)
    took = wait(lambda: "QUEUED-BEFORE-CERTIFICATE" in remote_text(app.collector_root), 180)
    timed("app: queued message delivered after the certificate", took)
    # Audit events travel the same way (auditd -> syslog -> collector).
    vm.ssh("touch /etc/sudoers.d/vmtest-audit-probe && rm /etc/sudoers.d/vmtest-audit-probe")
    wait(lambda: 'key="sudoers"' in remote_text(app.collector_root)
         or "key=sudoers" in remote_text(app.collector_root), 180)
    text = remote_text(app.collector_root)
    assert f" {HOST} " in text  # the name the client reports, on each line


# --------------------------------------------------------------------------------------------
# The self-check (GDPR Art. 32(1)(d)): ssb-verify's events, from the guest's journal to the
# collector's evidence export (the real ssb-evidence over the files the collector wrote) and to
# `report --evidence`. Here the instance has its certificate and a backup, so the checks can
# say ok; what they say before either exists is in tests/ssb_guest/test_self_check.py.

DELIVERY = 300.0  # hang guard: a shipped line reaches the collector in seconds


def _export(app: App) -> dict:
    """The collector's evidence export: the real ssb-evidence over the collected files."""
    program = app.collector_root / "usr/local/sbin/ssb-evidence"
    proc = subprocess.run([sys.executable, str(program), "export", "--root",
                           str(app.collector_root / "var/log/remote")],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def _measures_of(doc: dict) -> dict:
    (entry,) = [i for i in doc["instances"] if i["name"] == HOST]
    return entry["measures"]


def test_self_checks_report_each_claimed_measure(app: App) -> None:
    vm = app.vm
    assert vm.ssh("systemctl is-enabled ssb-verify.timer").stdout.strip() == "enabled"
    assert vm.ssh("systemctl is-active ssb-verify.timer").stdout.strip() == "active"
    meta = json.loads(vm.ssh("cat /run/cloud-init/instance-data.json").stdout)
    claims = set(meta["ds"]["meta_data"]["meta"]["ssb_measures"].split(","))
    assert {"audit", "luks-tang", "log-shipping-tls", "backup-freshness-check",
            "backup-restic"} <= claims, claims
    # The hourly backup freshness check, now rather than at its hour: a backup exists (above).
    vm.ssh("systemctl start ssb-backup-check.service", timeout=600)
    events = self_check(vm)
    # One event per check of a claimed measure; measures without a check are not reported.
    assert set(events) == {"audit", "local-logs", "luks-tang", "file-integrity",
                           "log-shipping-tls", "backup-freshness-check", "backup-restic"}, events
    for measure in ("audit", "local-logs", "luks-tang", "log-shipping-tls",
                    "backup-freshness-check", "backup-restic"):
        assert events[measure]["SSB_RESULT"] == "ok", events[measure]
        assert events[measure]["SYSLOG_IDENTIFIER"] == "ssb-verify"
    assert "rules loaded" in events["audit"]["SSB_DETAIL"]
    # Asked through the egress proxy: the key the volume is bound to is still advertised.
    assert "bound to a key Tang advertises" in events["luks-tang"]["SSB_DETAIL"]
    assert "client certificate valid" in events["log-shipping-tls"]["SSB_DETAIL"]
    assert "found a recent backup" in events["backup-freshness-check"]["SSB_DETAIL"]
    assert "restic verified the content" in events["backup-restic"]["SSB_DETAIL"]
    # AIDE's daily check (after midnight, randomised by an hour): if it has not run since boot,
    # the check says so and never guesses; if it has, it reports that run.
    event = events["file-integrity"]
    ran = vm.ssh("systemctl show -P ExecMainExitTimestampMonotonic ssb-aide-check.service")
    if ran.stdout.strip() in ("", "0"):
        assert event["SSB_RESULT"] == "unknown", event
        assert "has not run since boot" in event["SSB_DETAIL"], event
    else:
        assert "AIDE check at" in event["SSB_DETAIL"], event


def test_self_check_results_reach_the_collectors_evidence_export(app: App) -> None:
    events = self_check(app.vm)
    checked = json.loads(events["audit"]["MESSAGE"].split(" ", 1)[1])["at"]
    wait(lambda: checked in remote_text(app.collector_root)
         and '"measure":"log-shipping-tls","name":"vmtest-app-1","period":3600,"result":"ok"'
         in remote_text(app.collector_root), DELIVERY)
    doc = _export(app)
    assert doc["format"] == "ssb-evidence/1"
    measures = _measures_of(doc)
    assert measures["audit"]["result"] == "ok"
    assert measures["audit"]["last_ok"] == measures["audit"]["checked_at"] == checked
    assert measures["log-shipping-tls"]["result"] == "ok"
    (entry,) = [i for i in doc["instances"] if i["name"] == HOST]
    assert entry["instance_id"] == app.vm.instance_id
    assert entry["address"] != ""  # the peer address the TLS connection came from


def test_damaged_backups_fail_the_restore_drill_and_the_self_check(app: App) -> None:
    """Every pack of the repository overwritten in the bucket (new versions of its objects):
    the drill fails and says so, the self-check reports FAIL; with the damage removed again
    (the bucket keeps the old versions) the drill passes."""
    vm = app.vm
    s3 = _s3(app.lab)
    damage = []
    for obj in s3.list_objects_v2(Bucket=BACKUP_BUCKET, Prefix=f"{HOST}/data/")["Contents"]:
        junk = os.urandom(obj["Size"])
        md5 = base64.b64encode(hashlib.md5(junk).digest()).decode()
        put = s3.put_object(Bucket=BACKUP_BUCKET, Key=obj["Key"], Body=junk, ContentMD5=md5)
        damage.append((obj["Key"], put["VersionId"]))
    assert damage
    try:
        run = vm.ssh("systemctl start ssb-backup-drill.service", check=False, timeout=1200)
        assert run.returncode != 0, run
        drill = json.loads(vm.ssh("cat /var/lib/ssb-backup/restore-drill.json").stdout)
        assert drill["result"] == "fail" and "restic restore --verify failed" in drill["detail"]
        event = self_check(vm)["backup-restic"]
        assert event["SSB_RESULT"] == "fail" and "failed" in event["SSB_DETAIL"], event
    finally:
        for key, version in damage:  # the test's own damage (GOVERNANCE lets it go)
            s3.delete_object(Bucket=BACKUP_BUCKET, Key=key, VersionId=version,
                             BypassGovernanceRetention=True)
    vm.ssh("systemctl start ssb-backup-drill.service", timeout=1200)
    assert self_check(vm)["backup-restic"]["SSB_RESULT"] == "ok"


def test_auditd_stopped_a_rotated_tang_key_and_deleted_snapshots_fail_in_the_export_and_the_report(
        app: App) -> None:
    """Three faults, one self-check run (a run costs minutes here): auditd stopped, Tang's keys
    rotated away from the one the volume is bound to, and every snapshot deleted from the
    bucket. Each FAIL reaches the collector's export and the report with its time."""
    vm = app.vm
    assert app.lab.tang is not None
    s3 = _s3(app.lab)
    before = _measures_of(_export(app))["audit"]
    # Stopped for good, as by someone covering their tracks (auditd.service refuses a manual
    # stop, and its Restart=on-failure would bring back a daemon that exits with an error).
    # The drop-in is in /run: the reboot below brings auditd back.
    vm.ssh("mkdir -p /run/systemd/system/auditd.service.d && printf '[Service]\\nRestart=no\\n'"
           " > /run/systemd/system/auditd.service.d/vmtest.conf && systemctl daemon-reload")
    vm.ssh("systemctl kill --signal=TERM auditd.service")
    vm.wait_until("! systemctl is-active -q auditd.service", timeout=120)  # hang guard
    app.lab.tang.rotate_keys()  # the old keys stay hidden: the volume still unlocks
    deleted = [(obj["Key"], s3.delete_object(Bucket=BACKUP_BUCKET, Key=obj["Key"])["VersionId"])
               for obj in s3.list_objects_v2(Bucket=BACKUP_BUCKET,
                                             Prefix=f"{HOST}/snapshots/")["Contents"]]
    try:
        assert deleted
        check = vm.ssh("systemctl start ssb-backup-check.service", check=False, timeout=600)
        assert check.returncode != 0, check
        events = self_check(vm)
    finally:
        app.lab.tang.unrotate_keys()
        for key, marker in deleted:  # the delete markers go: the snapshots are back
            s3.delete_object(Bucket=BACKUP_BUCKET, Key=key, VersionId=marker,
                             BypassGovernanceRetention=True)
    expected = {"audit": ("GDPR-LOG-1", "auditd.service is"),
                "luks-tang": ("GDPR-ENC-1", "no longer advertises (rotated)"),
                "backup-freshness-check": ("GDPR-BAK-1", "failed")}
    at = {}
    for measure, (_control, words) in expected.items():
        event = events[measure]
        assert event["SSB_RESULT"] == "fail" and words in event["SSB_DETAIL"], event
        at[measure] = json.loads(event["MESSAGE"].split(" ", 1)[1])["at"]
    wait(lambda: all(f'"at":"{at[m]}","detail":"{events[m]["SSB_DETAIL"][:20]}' in
                     remote_text(app.collector_root) for m in expected), DELIVERY)
    doc = _export(app)
    exported = app.lab.workdir / "evidence.json"
    exported.write_text(json.dumps(doc, indent=2), "utf-8")
    for measure in expected:
        found = _measures_of(doc)[measure]
        assert found["result"] == "fail" and found["checked_at"] == at[measure], (measure, found)
    assert _measures_of(doc)["audit"]["last_ok"] == before["last_ok"]  # the last success is kept
    failed_at = at["audit"]
    # The report: FAIL with its time for this instance; the instances that never reported.
    out = app.lab.workdir / "report.json"
    proc = subprocess.run([sys.executable, "-m", "generator", "report", str(app.lab.blueprint),
                           "--today", "2026-11-27", "--evidence", str(exported),
                           "-o", str(out)], capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stderr  # FAIL
    report = json.loads(out.read_text("utf-8"))
    life = report["life"]
    for measure, (control, _words) in expected.items():
        (row,) = [r for r in life["rows"] if r["instance"] == HOST and r["measure"] == measure]
        assert row["status"] == "FAIL" and row["checked_at"] == at[measure], row
        assert row["control"] == control
        assert any(control in why and HOST in why for why in report["verdict_why"]), control
    assert "vmtest-web-1" in life["never_reported"]
    # Markdown says the same to a reader.
    md = subprocess.run([sys.executable, "-m", "generator", "report", str(app.lab.blueprint),
                         "--today", "2026-11-27", "--evidence", str(exported)],
                        capture_output=True, text=True, check=False).stdout
    assert f"| {HOST} | audit | **FAIL** | GDPR-LOG-1 | {failed_at} |" in md, md


def test_reboot_with_tang_down_waits_then_comes_up(app: App) -> None:
    """Shutdown finishes; the instance boots without Tang; what needs the volume waits and
    starts once Tang answers; the collector's address survives cloud-init's /etc/hosts."""
    vm = app.vm
    vm.put("/etc/systemd/system/vmtest-writer.service", WRITER_UNIT.encode(), "0644")
    vm.ssh("systemctl daemon-reload && systemctl enable --now vmtest-writer.service")
    assert vm.ssh(f"wc -l < {DATA}/writer-started").stdout.strip() == "1"
    app.lab.tang_down()
    took = timed("app: shutdown for reboot", vm.shutdown("reboot", timeout=300))
    assert took < SHUTDOWN_LIMIT, f"shutdown took {took:.0f} s"
    vm.start()
    took = vm.wait_until("systemctl is-system-running | grep -Eqx 'running|degraded'",
                         timeout=1200)
    timed("app: boot with Tang down until the system is up", time.monotonic() - vm.started)
    assert _state(vm, "vmtest-writer.service").startswith("inactive"), "started on no volume"
    _immutable_mountpoint(vm)
    app.lab.tang_up()
    took = vm.wait_until("systemctl is-active -q vmtest-writer.service", timeout=VOLUME_READY)
    timed("app: Tang back -> volume unlocked and the writer started", took)
    assert vm.ssh(f"cat {DATA}/patient.txt").stdout == "journal entry 1\n"
    assert vm.ssh(f"wc -l < {DATA}/writer-started").stdout.strip() == "2"
    # The collector's name was put back after cloud-init rewrote /etc/hosts.
    assert "collector.logging.safespring-blueprints.internal" in vm.ssh("cat /etc/hosts").stdout
    vm.ssh("logger -t vmtest AFTER-REBOOT-MARKER")
    wait(lambda: "AFTER-REBOOT-MARKER" in remote_text(app.collector_root), 240)


def test_replacement_instance_gets_the_volume_and_continues_the_backups(
        app: App, debian13: Image) -> None:
    """A new root disk (here Debian 13) with the same volume, bucket and hostname."""
    old = app.vm
    old.shutdown("poweroff", timeout=300)
    new = app.lab.new_vm(debian13, "instance-2", hostname=HOST, volumes=[app.volume])
    app.vm = new
    status = boot(new, "app replacement (Debian 13)")
    assert "status: done" in status, status
    took = new.wait_until("systemctl is-active -q ssb-volumes.target", timeout=VOLUME_READY)
    timed("app replacement: volume unlocked and mounted", took)
    journal = new.journal("ssb-volumes.service")
    assert "never reformatted" in journal and "luksFormat" not in journal
    assert new.ssh(f"cat {DATA}/patient.txt").stdout == "journal entry 1\n"
    new.ssh(f"echo 'journal entry 2' >> {DATA}/patient.txt")
    creds = f"{FAKE_AWS_ENV['AWS_ACCESS_KEY_ID']} {FAKE_AWS_ENV['AWS_SECRET_ACCESS_KEY']}"
    new.ssh("/usr/local/sbin/ssb-backup-credentials", stdin=creds.encode())
    new.ssh("systemctl start ssb-backup.service", timeout=1200)
    assert "continuing repository" in new.journal("ssb-backup.service")
    listing = new.ssh("/usr/local/sbin/ssb-backup snapshots").stdout
    assert listing.count(HOST) >= 2, listing  # the old instance's snapshot and the new one
    new.ssh("/usr/local/sbin/ssb-restore latest", timeout=900)
    assert new.ssh(f"cat {DATA}/.ssb-restore/{HOST}-latest{DATA}/patient.txt").stdout == (
        "journal entry 1\njournal entry 2\n")
    with pytest.raises(GuestError):
        new.ssh("test -e /var/tmp/first-root-disk")  # a new root disk indeed
