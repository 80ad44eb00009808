"""Measures proven working in life (Art. 32(1)(d)): the self-check, from guest to report.

The `app` group of tests/vm/specs (an encrypted volume, log shipping, audit, AIDE, backups; on
the private network) boots from its generated user data with its claims in its metadata. Its
log collector is the generated collector configuration run on the host (as in
test_app_group.py: the collector group's own boot is test_collector_group.py), with the real
ssb-log-store writing the collected files and the real ssb-evidence reading them.

In order: ssb-verify's timer is installed and its checks report ok (auditd, the persistent
journal, the LUKS volume with its Tang pin, log shipping) or unknown with why (a check that has
not run yet); the events reach the collector and its export; auditd is stopped, the next
self-check reports FAIL, the FAIL reaches the export with its time and the last success, and
`report --evidence` shows FAIL for that instance and names the blueprint's instances that never
reported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.guest.logging import TLS_DIR, log_collector
from tests.guest_logging.harness import PKI_ENV, Listener, remote_text, write_files
from tests.vm import addresses
from tests.vm.image import Image
from tests.vm.lab import Lab, boot, lab, timed, wait
from tests.vm.machine import VM, free_port
from tests.vm.services import Forward

HOST = "vmtest-app-1"
MESSAGE_ID = "5f1c3a0e8b9d4c6fa2e7b1d09c3e4a51"
VOLUME_READY = 900.0  # hang guard: Tang is up from the start; formatting takes a few minutes
DELIVERY = 300.0  # hang guard: a shipped line reaches the collector in seconds


@dataclass
class Setup:
    lab: Lab
    vm: VM
    collector_root: Path
    collector_pki: Path
    collector: Listener
    work: Path


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, vm_blueprint: Path, debian12: Image,
        ssh_key: Path) -> Iterator[Setup]:
    work = tmp_path_factory.mktemp("vm-self-check")
    with lab(work, vm_blueprint, "app", ssh_key) as the_lab:
        the_lab.start_services(debian12)
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
        the_lab.forwards.append(Forward(addresses.COLLECTOR, 6514, port))
        volume = the_lab.volumes()[0]
        vm = the_lab.new_vm(debian12, "instance-1", hostname=HOST, volumes=[volume])
        yield Setup(the_lab, vm, root, pki, collector, work)


def _events(vm: VM, invocation: str) -> dict[str, dict]:
    """The self-check events of one run of ssb-verify.service, the last per measure."""
    out = vm.ssh(f"journalctl -o json --no-pager MESSAGE_ID={MESSAGE_ID} "
                 f"_SYSTEMD_INVOCATION_ID={invocation}").stdout
    found: dict[str, dict] = {}
    for line in out.splitlines():
        entry = json.loads(line)
        found[entry["SSB_MEASURE"]] = entry
    return found


def _self_check(vm: VM) -> dict[str, dict]:
    """Run the self-check now (what its timer does) and return the events of that run.

    A run the timer started (5 min after boot, then hourly) may be under way; `systemctl
    start` would join it, and its early events would say what was true before the test's
    change. So wait it out (hang guard: a run takes seconds to a few minutes under TCG), start
    a run of the test's own, and read that run's events by its invocation ID.
    """
    vm.wait_until("test \"$(systemctl show -P ActiveState ssb-verify.service)\" != activating",
                  timeout=900)
    vm.ssh("systemctl start ssb-verify.service", timeout=900)
    invocation = vm.ssh("systemctl show -P InvocationID ssb-verify.service").stdout.strip()
    assert invocation, "ssb-verify.service has no invocation ID after its run"
    return _events(vm, invocation)


def _export(app: Setup) -> dict:
    """The collector's evidence export: the real ssb-evidence over the collected files."""
    program = app.collector_root / "usr/local/sbin/ssb-evidence"
    proc = subprocess.run([sys.executable, str(program), "export", "--root",
                           str(app.collector_root / "var/log/remote")],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def _measures_of(doc: dict, name: str) -> dict:
    (entry,) = [i for i in doc["instances"] if i["name"] == name]
    return entry["measures"]


def test_self_check_timer_is_installed_and_claims_reach_the_instance(app: Setup) -> None:
    status = boot(app.vm, "self-check: first boot")
    assert "status: done" in status, status
    took = app.vm.wait_until("systemctl is-active -q ssb-volumes.target", timeout=VOLUME_READY)
    timed("self-check: volume formatted, unlocked, mounted", took)
    assert app.vm.ssh("systemctl is-enabled ssb-verify.timer").stdout.strip() == "enabled"
    assert app.vm.ssh("systemctl is-active ssb-verify.timer").stdout.strip() == "active"
    # The metadata's claims, as the instance reads them.
    meta = app.vm.ssh("cat /run/cloud-init/instance-data.json").stdout
    claims = json.loads(meta)["ds"]["meta_data"]["meta"]["ssb_measures"].split(",")
    assert {"audit", "luks-tang", "log-shipping-tls"} <= set(claims), claims


def test_self_checks_report_ok_or_say_why_not(app: Setup) -> None:
    # Hang guard: AIDE's first baseline takes minutes under TCG (ssb-aide-init, after
    # cloud-init); until it exists the check says it is being made.
    app.vm.wait_until("test -s /var/lib/aide/safespring-blueprints/aide.db.gz", timeout=1500)
    events = _self_check(app.vm)
    # One event per check of a claimed measure; measures without a check are not reported.
    assert set(events) == {"audit", "local-logs", "luks-tang", "file-integrity",
                           "log-shipping-tls", "backup-freshness-check"}, events
    for measure in ("audit", "local-logs", "luks-tang"):
        assert events[measure]["SSB_RESULT"] == "ok", events[measure]
    assert "rules loaded" in events["audit"]["SSB_DETAIL"]
    assert "Tang pin" in events["luks-tang"]["SSB_DETAIL"]
    # No certificate installed yet: nothing is shipped, and the check says so.
    assert events["log-shipping-tls"]["SSB_RESULT"] == "fail"
    assert "no client certificate" in events["log-shipping-tls"]["SSB_DETAIL"]
    # AIDE's daily check has not run since boot: unknown, with why, never a guess.
    event = events["file-integrity"]
    assert event["SSB_RESULT"] == "unknown", event
    assert "has not run since boot" in event["SSB_DETAIL"], event
    # No backup was made: the freshness check has not run yet (30 min after boot), or it ran
    # and failed; either is said, never ok.
    event = events["backup-freshness-check"]
    assert (event["SSB_RESULT"], event["SSB_DETAIL"].split(" (")[0]) in (
        ("unknown", "the backup freshness check has not run since boot"),
        ("fail", event["SSB_DETAIL"].split(" (")[0])), event
    assert event["SSB_RESULT"] == "unknown" or "failed" in event["SSB_DETAIL"], event
    assert events["audit"]["SYSLOG_IDENTIFIER"] == "ssb-verify"


def _issue_and_install(app: Setup) -> None:
    bundle = app.collector_root / TLS_DIR / "issued" / HOST
    subprocess.run([str(app.collector_pki), "issue", HOST, "--dir",
                    str(app.collector_root / TLS_DIR), "--address", addresses.COLLECTOR],
                   check=True, capture_output=True, env={**os.environ, **PKI_ENV})
    app.collector.restart()
    for name in ("ca.pem", "client.pem", "client.key", "collector-address"):
        app.vm.put(f"/root/log-bundle/{name}", (bundle / name).read_bytes())
    app.vm.ssh("/usr/local/sbin/ssb-log-pki install /root/log-bundle && rm -r /root/log-bundle")


def test_results_reach_the_collectors_evidence_export(app: Setup) -> None:
    _issue_and_install(app)
    events = _self_check(app.vm)
    assert events["log-shipping-tls"]["SSB_RESULT"] == "ok", events["log-shipping-tls"]
    checked = json.loads(events["audit"]["MESSAGE"].split(" ", 1)[1])["at"]
    wait(lambda: checked in remote_text(app.collector_root)
         and '"measure":"log-shipping-tls","name":"vmtest-app-1","period":3600,"result":"ok"'
         in remote_text(app.collector_root), DELIVERY)
    doc = _export(app)
    assert doc["format"] == "ssb-evidence/1"
    measures = _measures_of(doc, HOST)
    assert measures["audit"]["result"] == "ok"
    assert measures["audit"]["last_ok"] == measures["audit"]["checked_at"] == checked
    assert measures["log-shipping-tls"]["result"] == "ok"
    (entry,) = [i for i in doc["instances"] if i["name"] == HOST]
    assert entry["instance_id"] == app.vm.instance_id
    assert entry["address"] != ""  # the peer address the TLS connection came from


def test_auditd_stopped_is_a_fail_in_the_export_and_the_report(app: Setup) -> None:
    vm = app.vm
    before = _measures_of(_export(app), HOST)["audit"]
    # Stopped for good, as by someone covering their tracks (auditd.service refuses a manual
    # stop, and its Restart=on-failure would bring back a daemon that exits with an error).
    vm.ssh("mkdir -p /run/systemd/system/auditd.service.d && printf '[Service]\\nRestart=no\\n'"
           " > /run/systemd/system/auditd.service.d/vmtest.conf && systemctl daemon-reload")
    vm.ssh("systemctl kill --signal=TERM auditd.service")
    vm.wait_until("! systemctl is-active -q auditd.service", timeout=120)  # hang guard
    events = _self_check(vm)
    audit = events["audit"]
    assert audit["SSB_RESULT"] == "fail", audit
    assert "auditd.service is" in audit["SSB_DETAIL"]
    failed_at = json.loads(audit["MESSAGE"].split(" ", 1)[1])["at"]
    wait(lambda: f'"at":"{failed_at}","detail":"auditd.service is' in
         remote_text(app.collector_root), DELIVERY)
    doc = _export(app)
    exported = app.work / "evidence.json"
    exported.write_text(json.dumps(doc, indent=2), "utf-8")
    audit_export = _measures_of(doc, HOST)["audit"]
    assert audit_export["result"] == "fail"
    assert audit_export["checked_at"] == failed_at
    assert audit_export["last_ok"] == before["last_ok"]  # the last success is kept
    # The report: FAIL with its time for this instance; the instances that never reported.
    blueprint = app.lab.blueprint
    out = app.work / "report.json"
    proc = subprocess.run([sys.executable, "-m", "generator", "report", str(blueprint),
                           "--today", "2026-11-27", "--evidence", str(exported),
                           "-o", str(out)], capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stderr  # FAIL
    report = json.loads(out.read_text("utf-8"))
    life = report["life"]
    (row,) = [r for r in life["rows"] if r["instance"] == HOST and r["measure"] == "audit"]
    assert row["status"] == "FAIL" and row["checked_at"] == failed_at, row
    assert row["control"] == "GDPR-LOG-1"
    assert "vmtest-web-1" in life["never_reported"]
    assert any("GDPR-LOG-1" in why and HOST in why for why in report["verdict_why"])
    # Markdown says the same to a reader.
    md = subprocess.run([sys.executable, "-m", "generator", "report", str(blueprint),
                         "--today", "2026-11-27", "--evidence", str(exported)],
                        capture_output=True, text=True, check=False).stdout
    assert f"| {HOST} | audit | **FAIL** | GDPR-LOG-1 | {failed_at} |" in md, md
