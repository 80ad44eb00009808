"""ssb-verify's event and ssb-evidence's store, on the test machine.

What the checks find on a real instance is proven in tests/vm/test_app_group.py (booted);
here: the claims read from metadata, the checks' reading of command output (the commands are
stand-ins on PATH), the journal's native protocol on a real datagram socket, and the store
built from lines as the collector's template writes them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import ssl
import stat
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from ssb_guest import evidence, verify


def _tool(bin_dir: Path, name: str, script: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + script, "utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return bin_dir


def test_claims_come_from_the_metadata_in_either_form(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {"ds": {"meta_data": {"uuid": "u", "name": "n",
                                "meta": {"ssb_measures": "audit,local-logs self-check"}}}}
    path = tmp_path / "instance-data.json"
    path.write_text(json.dumps(doc), "utf-8")
    monkeypatch.setenv("SSB_METADATA_SOURCES", f"{tmp_path}/missing.json,{path}")
    meta = verify.metadata()
    assert meta is not None and meta["uuid"] == "u"
    assert verify.claimed(meta) == ["audit", "local-logs", "self-check"]
    assert verify.claimed({"meta": {}}) == []


def test_audit_ok_only_with_auditd_active_auditing_on_and_rules(tools: Path) -> None:
    _tool(tools, "systemctl", 'echo active\n')
    _tool(tools, "auditctl", 'case "$1" in -s) echo "enabled 2"; echo "pid 42";;\n'
                             '-l) echo "-w /etc/sudoers -p wa -k sudoers";;\nesac\n')
    found = verify.check_audit()
    assert (found.result, found.detail) == (
        "ok", "auditd active, auditing enabled 2 (locked until reboot), 1 rules loaded")
    _tool(tools, "auditctl", 'case "$1" in -s) echo "enabled 1";; -l) echo "No rules";; esac\n')
    assert verify.check_audit().result == "fail"
    _tool(tools, "auditctl", 'echo "enabled 0"\n')
    assert "disabled" in verify.check_audit().detail
    _tool(tools, "systemctl", 'echo inactive; exit 3\n')
    found = verify.check_audit()
    assert (found.result, found.detail.split(":")[0]) == ("fail", "auditd.service is inactive")


def test_a_check_that_cannot_ask_systemd_says_unknown_not_fail(tools: Path) -> None:
    _tool(tools, "systemctl", 'echo "Failed to connect to bus" >&2; exit 1\n')
    with pytest.raises(verify.CannotTell, match="Failed to connect to bus"):
        verify.check_audit()


def test_aide_and_backup_checks_read_the_last_run(tools: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "aide.db.gz"
    monkeypatch.setenv("SSB_AIDE_DB", str(db))
    _tool(tools, "systemctl", 'echo inactive; exit 3\n')
    assert verify.check_file_integrity().result == "fail"  # no baseline
    _tool(tools, "systemctl", 'echo activating; exit 3\n')
    found = verify.check_file_integrity()
    assert (found.result, found.detail) == (
        "unknown", "the AIDE baseline is being made (ssb-aide-init.service runs)")
    db.write_bytes(b"x")
    _tool(tools, "systemctl", 'echo Result=success; echo ExecMainStatus=0; '
                              'echo ExecMainExitTimestamp=\n')
    found = verify.check_file_integrity()
    assert found.result == "unknown" and "has not run since boot" in found.detail
    now = int(__import__("time").time())
    _tool(tools, "systemctl", f'echo Result=exit-code; echo ExecMainStatus=4; '
                              f'echo ExecMainExitTimestamp=@{now - 60}\n')
    found = verify.check_file_integrity()
    assert found.result == "fail" and "added, removed or changed" in found.detail
    assert verify.check_backup_freshness().result == "fail"
    _tool(tools, "systemctl", f'echo Result=success; echo ExecMainStatus=0; '
                              f'echo ExecMainExitTimestamp=@{now - 3 * 3600}\n')
    found = verify.check_backup_freshness()
    assert found.result == "fail" and "180 min ago" in found.detail  # stale counts as failed
    assert "h ago" not in verify.check_file_integrity().detail  # 3 h is fresh for the daily AIDE


def _certificate(path: Path) -> None:
    """A real certificate (openssl) that ends in 30 days."""
    import subprocess
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=client",
                    "-keyout", str(path.with_suffix(".key")), "-out", str(path), "-days", "30"],
                   check=True, capture_output=True)


def test_log_shipping_needs_rsyslog_and_a_valid_certificate(
        tools: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tls = tmp_path / "tls"
    tls.mkdir()
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setenv("SSB_LOG_TLS_DIR", str(tls))
    monkeypatch.setenv("SSB_SPOOL_DIR", str(spool))
    _tool(tools, "systemctl", 'echo failed; exit 3\n')
    found = verify.check_log_shipping()
    assert (found.result, found.detail.split(":")[0]) == ("fail", "rsyslog.service is failed")
    _tool(tools, "systemctl", 'echo active\n')
    found = verify.check_log_shipping()
    assert found.result == "fail" and "no client certificate" in found.detail
    _certificate(tls / "client.pem")
    # openssl's own words for a certificate that has ended (this openssl cannot make one).
    _tool(tools, "openssl", 'echo "notAfter=Feb  1 00:00:00 2020 GMT"\n')
    found = verify.check_log_shipping()
    assert found.result == "fail" and "ended at 2020-02-01T00:00:00Z" in found.detail
    (tools / "openssl").unlink()  # the real openssl reads the real certificate
    (spool / "ssb-collector.00000001").write_bytes(b"x" * 1234)
    found = verify.check_log_shipping()
    assert found.result == "ok", found.detail
    assert "valid 29 more days" in found.detail and "1234 bytes queued" in found.detail


def test_the_restore_drill_check_reads_the_drills_record(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    record = tmp_path / "restore-drill.json"
    monkeypatch.setenv("SSB_DRILL_STATE", str(record))
    assert verify.check_restore_drill().result == "unknown"  # no drill yet
    now = dt.datetime.now(dt.UTC)

    def write(result: str, days_ago: float, detail: str = "restored every file") -> None:
        at = (now - dt.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
        record.write_text(json.dumps({"format": "ssb-restore-drill/1", "result": result,
                                      "at": at, "detail": detail}), "utf-8")

    write("ok", 1)
    found = verify.check_restore_drill()
    assert found.result == "ok" and "restored every file" in found.detail
    write("ok", 9)  # weekly, missed: stale is a failure
    found = verify.check_restore_drill()
    assert found.result == "fail" and "9 days ago" in found.detail
    write("fail", 1, "restic restore --verify failed")
    found = verify.check_restore_drill()
    assert found.result == "fail" and "restic restore --verify failed" in found.detail
    record.write_text("{not json", "utf-8")
    assert verify.check_restore_drill().result == "unknown"


def _tls_server(tmp_path: Path, days: int) -> tuple[int, Callable[[], None]]:
    """A real TLS server on loopback serving a certificate (openssl) that ends in `days`."""
    import subprocess
    import threading

    cert, key = tmp_path / f"cert-{days}.pem", tmp_path / f"key-{days}.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=portal.example.se",
                    "-keyout", str(key), "-out", str(cert), "-days", str(days)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def close() -> None:
        stop.set()
        thread.join()
        listener.close()

    return listener.getsockname()[1], close


def test_the_tls_endpoint_check_reads_the_served_certificate(
        tools: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served = tmp_path / "endpoints.json"
    monkeypatch.setenv("SSB_ENDPOINTS", str(served))
    assert verify.check_tls_endpoint().result == "unknown"  # nothing to read
    _tool(tools, "systemctl", 'echo active\n')
    for days, result, words in ((30, "ok", "certificate valid 29 more days"),
                                (5, "fail", "the certificate ends in 4 days")):
        port, close = _tls_server(tmp_path, days)
        try:
            served.write_text(json.dumps({"port": port, "endpoints": [
                {"name": "portal", "hostname": "portal.example.se", "certificate": "acme"}]}))
            found = verify.check_tls_endpoint()
        finally:
            close()
        assert found.result == result and words in found.detail, found.detail
    # Nothing listens any more: no handshake is a failure, with the likely reason.
    found = verify.check_tls_endpoint()
    assert found.result == "fail" and "no TLS handshake" in found.detail, found.detail
    assert "no ACME certificate yet" in found.detail
    _tool(tools, "systemctl", 'echo inactive; exit 3\n')
    found = verify.check_tls_endpoint()
    assert (found.result, found.detail.split(":")[0]) == ("fail", "caddy.service is inactive")


def test_the_event_reaches_a_journal_socket_in_the_native_protocol(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = str(tmp_path / "journal.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        monkeypatch.setenv("SSB_JOURNAL_SOCKET", path)
        record = verify.event("audit", verify.fail("auditd.service is inactive\nsecond line"),
                              {"uuid": "u-1", "name": "db-1"},
                              __import__("datetime").datetime(2026, 12, 6, 15, 0, 3))
        verify.send(record)
        data = server.recv(65536)
    fields: dict[str, str] = {}
    while data:
        line, _, rest = data.partition(b"\n")
        if b"=" in line:
            key, _, value = line.partition(b"=")
            fields[key.decode()] = value.decode()
            data = rest
        else:  # KEY\n<64-bit little-endian length><value>\n
            (size,) = struct.unpack("<Q", rest[:8])
            fields[line.decode()] = rest[8:8 + size].decode()
            data = rest[8 + size + 1:]
    assert fields["SYSLOG_IDENTIFIER"] == "ssb-verify"
    assert fields["MESSAGE_ID"] == verify.MESSAGE_ID == evidence.MESSAGE_ID
    assert (fields["SSB_MEASURE"], fields["SSB_RESULT"], fields["PRIORITY"]) == ("audit", "fail",
                                                                                  "3")
    assert fields["SSB_DETAIL"] == "auditd.service is inactive second line"  # one line
    parsed = evidence.parse_event(fields["MESSAGE"])
    assert parsed is not None and parsed["at"] == "2026-12-06T15:00:03Z"
    assert parsed["name"] == "db-1" and parsed["result"] == "fail"


def _line(at: str, result: str, *, measure: str = "audit", peer: str = "10.0.0.12",
          name: str = "db-1", tag: str = "ssb-verify[812]:") -> str:
    record = {"at": at, "detail": f"{measure} {result}", "instance": "u-1", "measure": measure,
              "name": name, "period": 3600, "result": result}
    return f"{at[:-1]}+00:00 {peer} {name} {tag} {verify.message(record)}\n"


def test_the_store_keeps_the_latest_result_and_the_last_success(tmp_path: Path) -> None:
    root = tmp_path / "remote"
    (root / "10.0.0.12").mkdir(parents=True)
    day = root / "10.0.0.12" / "2026-12-06.log"
    day.write_text(_line("2026-12-06T14:00:02Z", "ok")
                   + "2026-12-06T14:00:05+00:00 10.0.0.12 db-1 sshd[1]: ssb-verify/1 {}\n"
                   + _line("2026-12-06T15:00:03Z", "fail")
                   + _line("2026-12-06T15:00:04Z", "ok", measure="local-logs")[:-20], "utf-8")
    state_path = str(root / evidence.STATE_NAME)
    state = evidence.update(str(root), state_path, journal=False)
    doc = evidence.document(state, now=__import__("datetime").datetime(2026, 12, 6, 15, 10),
                            collector="c")
    (entry,) = doc["instances"]
    assert (entry["name"], entry["address"], entry["instance_id"]) == ("db-1", "10.0.0.12", "u-1")
    assert entry["measures"] == {"audit": {
        "result": "fail", "detail": "audit fail", "checked_at": "2026-12-06T15:00:03Z",
        "period_seconds": 3600, "last_ok": "2026-12-06T14:00:02Z"}}  # the half line waits
    # The rest of the half-written line arrives; only the new part is read.
    with open(day, "a", encoding="utf-8") as handle:
        handle.write(_line("2026-12-06T15:00:04Z", "ok", measure="local-logs")[-20:])
    state = evidence.update(str(root), state_path, journal=False)
    measures = state["instances"]["10.0.0.12 db-1"]["measures"]
    assert measures["local-logs"]["result"] == "ok"
    assert measures["audit"]["last_ok"] == "2026-12-06T14:00:02Z"
    # An older event arriving late (a client's queue) does not replace the latest result.
    (root / "10.0.0.12" / "2026-12-05.log").write_text(_line("2026-12-05T23:00:00Z", "ok"))
    state = evidence.update(str(root), state_path, journal=False)
    audit = state["instances"]["10.0.0.12 db-1"]["measures"]["audit"]
    assert (audit["result"], audit["last_ok"]) == ("fail", "2026-12-06T14:00:02Z")


def test_another_client_cannot_overwrite_an_instances_results(tmp_path: Path) -> None:
    root = tmp_path / "remote"
    for peer, result in (("10.0.0.12", "fail"), ("10.0.0.99", "ok")):
        (root / peer).mkdir(parents=True)
        (root / peer / "2026-12-06.log").write_text(
            _line("2026-12-06T15:00:03Z", result, peer=peer), "utf-8")
    state = evidence.update(str(root), str(root / evidence.STATE_NAME), journal=False)
    results = {k: v["measures"]["audit"]["result"] for k, v in state["instances"].items()}
    assert results == {"10.0.0.12 db-1": "fail", "10.0.0.99 db-1": "ok"}


@pytest.mark.parametrize("message", [
    "ssb-verify/1 not json",
    'ssb-verify/1 {"measure":"audit","result":"maybe","at":"2026-12-06T15:00:03Z","period":3600}',
    'ssb-verify/1 {"measure":"audit","result":"ok","at":"yesterday","period":3600}',
    'ssb-verify/1 {"measure":"../x","result":"ok","at":"2026-12-06T15:00:03Z","period":3600}',
    'ssb-verify/2 {"measure":"audit","result":"ok","at":"2026-12-06T15:00:03Z","period":3600}',
])
def test_a_malformed_event_is_never_taken_as_a_result(message: str) -> None:
    assert evidence.parse_event(message) is None


def test_the_export_is_a_versioned_document(tmp_path: Path) -> None:
    root = tmp_path / "remote"
    (root / "10.0.0.12").mkdir(parents=True)
    (root / "10.0.0.12" / "2026-12-06.log").write_text(_line("2026-12-06T15:00:03Z", "ok"))
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert evidence.main(["export", "--root", str(root)]) == 0
    doc = json.loads(out.getvalue())
    assert doc["format"] == "ssb-evidence/1"
    assert set(doc) == {"format", "exported_at", "collector", "instances"}
    assert doc["instances"][0]["measures"]["audit"]["last_ok"] == "2026-12-06T15:00:03Z"
    assert evidence.main(["export", "--root", str(tmp_path / "not-mounted")]) == 1


def test_every_group_runs_the_self_check_and_the_collector_keeps_the_evidence() -> None:
    import yaml

    from tests.conftest import ROOT

    groups = sorted((ROOT / "blueprints" / "patient-portal" / "cloud-init").glob("*.yaml"))
    assert len(groups) == 4
    for path in groups:
        config = yaml.safe_load(path.read_text("utf-8"))
        written = {f["path"]: f for f in config["write_files"]}
        assert written["/usr/local/sbin/ssb-verify"]["permissions"] == "0755", path.name
        assert "/etc/systemd/system/ssb-verify.timer" in written, path.name
        assert ["systemctl", "enable", "--now", "ssb-verify.timer"] in config["runcmd"], path.name
        collector = path.stem == "log-collector"
        assert ("/usr/local/sbin/ssb-evidence" in written) is collector, path.name
        assert ("/etc/systemd/system/ssb-evidence.timer" in written) is collector, path.name
    main = (ROOT / "blueprints" / "patient-portal" / "main.tf").read_text("utf-8")
    assert "self-check" not in main  # the self-check claims no metadata measure
