"""`report --evidence`: what the collector's export shows, and never more.

The export itself is made by the real ssb-evidence in tests/ssb_guest/test_self_check.py and in
the VM suite (tests/vm/test_app_group.py, where auditd is stopped in a booted instance); here
the report's reading of it, both ways: a failure is FAIL, a stale, undecided or missing result
is NOT EVIDENCED with its age or reason, and only a fresh success is PASS.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from generator import api
from generator.controls import controls
from generator.report import FAIL, NO_FAILURES, NOT_EVIDENCED, PASS, to_json, to_markdown
from generator.report.life import self_checks
from generator.scan import ScanResult
from ssb_guest import verify
from tests.conftest import TODAY
from tests.report.conftest import BLUEPRINTS

PORTAL = BLUEPRINTS / "patient-portal"
EXPORTED = "2026-12-06T15:10:00Z"


def _measure(result: str, at: str, last_ok: str | None = None, detail: str = "found") -> dict:
    return {"result": result, "detail": detail, "checked_at": at, "period_seconds": 3600,
            "last_ok": last_ok}


def _export(tmp_path: Path, instances: list[dict]) -> Path:
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps({"format": "ssb-evidence/1", "exported_at": EXPORTED,
                                "collector": "patient-portal-log-collector-1",
                                "instances": instances}), "utf-8")
    return path


def _all_ok(name: str, at: str = "2026-12-06T15:00:03Z") -> dict:
    return {"name": name, "address": "10.0.0.12", "instance_id": "u",
            "measures": {m: _measure("ok", at, at) for m in self_checks()}}


def _every_instance() -> list[str]:
    return ["patient-portal-db-1", "patient-portal-egress-proxy-1",
            "patient-portal-egress-proxy-2", "patient-portal-log-collector-1",
            "patient-portal-web-1", "patient-portal-web-2"]


def test_the_checks_table_matches_what_ssb_verify_checks() -> None:
    assert set(self_checks()) == set(verify.CHECKS)
    known = {c.id for c in controls()}
    assert {c.control for c in self_checks().values()} <= known


def test_fresh_successes_everywhere_pass_and_the_verdict_stands(
        tmp_path: Path, portal_scan: ScanResult) -> None:
    evidence = _export(tmp_path, [_all_ok(n) for n in _every_instance()])
    report = api.build_report(PORTAL, on=TODAY, result=portal_scan, evidence=evidence)
    assert report.life is not None and report.life.never_reported == ()
    assert {r.status for r in report.life.rows} == {PASS}
    # Each instance gets a row for each checked measure its group claims, and no other.
    db = {r.measure for r in report.life.rows if r.instance == "patient-portal-db-1"}
    assert db == {"audit", "local-logs", "luks-tang", "file-integrity", "log-shipping-tls",
                  "backup-freshness-check", "backup-restic"}
    web = {r.measure for r in report.life.rows if r.instance == "patient-portal-web-1"}
    assert "luks-tang" in web and "backup-freshness-check" in web
    proxy = {r.measure for r in report.life.rows if r.instance == "patient-portal-egress-proxy-1"}
    assert "luks-tang" not in proxy and "backup-freshness-check" not in proxy
    assert report.verdict == NO_FAILURES


def test_a_failed_check_fails_the_report_with_its_time(tmp_path: Path,
                                                       portal_scan: ScanResult) -> None:
    db = _all_ok("patient-portal-db-1")
    db["measures"]["audit"] = _measure("fail", "2026-12-06T15:00:03Z", "2026-12-06T14:00:02Z",
                                       "auditd.service is inactive")
    evidence = _export(tmp_path, [db] + [_all_ok(n) for n in _every_instance()[1:]])
    report = api.build_report(PORTAL, on=TODAY, result=portal_scan, evidence=evidence)
    assert report.verdict == FAIL
    assert ("Failed in life (evidence.json): GDPR-LOG-1 on patient-portal-db-1 (audit, checked "
            "2026-12-06T15:00:03Z).") in report.verdict_why
    (row,) = [r for r in report.life.rows if r.status == FAIL]  # type: ignore[union-attr]
    assert (row.instance, row.control, row.checked_at, row.last_ok) == (
        "patient-portal-db-1", "GDPR-LOG-1", "2026-12-06T15:00:03Z", "2026-12-06T14:00:02Z")
    assert "auditd.service is inactive" in row.why
    text = to_markdown(report)
    assert ("| patient-portal-db-1 | audit | **FAIL** | GDPR-LOG-1 | 2026-12-06T15:00:03Z | "
            "2026-12-06T14:00:02Z |") in text
    assert json.loads(to_json(report))["life"]["rows"][0]["instance"] == "patient-portal-db-1"


def test_stale_undecided_missing_and_silent_are_not_evidenced(
        tmp_path: Path, portal_scan: ScanResult) -> None:
    db = _all_ok("patient-portal-db-1")
    db["measures"]["luks-tang"] = _measure("ok", "2026-12-06T11:00:00Z", "2026-12-06T11:00:00Z")
    db["measures"]["file-integrity"] = _measure("unknown", "2026-12-06T15:00:03Z",
                                                detail="has not run since boot")
    del db["measures"]["backup-freshness-check"]
    stranger = _all_ok("someone-else-1")
    evidence = _export(tmp_path, [db, stranger])
    report = api.build_report(PORTAL, on=TODAY, result=portal_scan, evidence=evidence)
    life = report.life
    assert life is not None
    rows = {r.measure: r for r in life.rows if r.instance == "patient-portal-db-1"}
    assert rows["luks-tang"].status == NOT_EVIDENCED
    assert "older than its period of 60 min" in rows["luks-tang"].why
    assert "4 h before the export" in rows["luks-tang"].why  # its age, to the export's time
    assert rows["file-integrity"].status == NOT_EVIDENCED
    assert "could not tell: has not run since boot" in rows["file-integrity"].why
    assert rows["backup-freshness-check"].status == NOT_EVIDENCED
    assert rows["audit"].status == PASS
    assert life.never_reported == tuple(_every_instance()[1:])
    assert life.not_in_blueprint == ("someone-else-1",)
    assert report.verdict == NO_FAILURES  # nothing failed; the gaps are said, not hidden
    assert any(w.startswith("Never reported a self-check") for w in report.verdict_why)
    assert any("patient-portal-db-1 (luks-tang)" in w for w in report.verdict_why)


def test_a_replacement_counts_with_its_latest_check_and_names_the_other_address(
        tmp_path: Path, portal_scan: ScanResult) -> None:
    old = _all_ok("patient-portal-db-1", "2026-12-06T09:00:00Z")
    old["measures"]["audit"] = _measure("fail", "2026-12-06T09:00:00Z")
    new = _all_ok("patient-portal-db-1")
    new["address"] = "10.0.0.40"
    evidence = _export(tmp_path, [old, new])
    report = api.build_report(PORTAL, on=TODAY, result=portal_scan, evidence=evidence)
    (audit,) = [r for r in report.life.rows  # type: ignore[union-attr]
                if r.instance == "patient-portal-db-1" and r.measure == "audit"]
    assert audit.status == PASS and "also reported from 10.0.0.12" in audit.why


@pytest.mark.parametrize("content, message", [
    ("not json", "not JSON"),
    ('{"format": "ssb-evidence/2"}', "format: not 'ssb-evidence/1'"),
    ('{"format": "ssb-evidence/1", "exported_at": "now", "instances": []}',
     "exported_at: 'now' is not a UTC time"),
    ('{"format": "ssb-evidence/1", "exported_at": "2026-12-06T15:10:00Z", "instances": [{"name":'
     ' "a", "measures": {"audit": {"result": "fine"}}}]}',
     "instances[0].measures.audit.result: must be ok, fail or unknown"),
])
def test_a_bad_evidence_file_is_refused_with_what_is_wrong(tmp_path: Path, content: str,
                                                           message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content, "utf-8")
    out = tmp_path / "out.md"
    proc = subprocess.run([sys.executable, "-m", "generator", "report", str(PORTAL),
                           "--today", "2026-11-27", "--evidence", str(bad), "-o", str(out)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2, proc.stderr
    assert f"bad.json: {message}" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_the_bundle_holds_the_evidence_file(tmp_path: Path) -> None:
    evidence = _export(tmp_path, [_all_ok(n) for n in _every_instance()])
    target = tmp_path / "bundle.tar.gz"
    proc = subprocess.run([sys.executable, "-m", "generator", "report", str(PORTAL),
                           "--today", "2026-11-27", "--evidence", str(evidence), "--bundle",
                           str(target), "-o", str(tmp_path / "r.md")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(target) as tar:
        names = tar.getnames()
        member = [n for n in names if n.endswith("evidence/evidence.json")]
        assert member, names
        data = tar.extractfile(member[0]).read()  # type: ignore[union-attr]
    assert data == evidence.read_bytes()
    assert "## Last verified in life" in (tmp_path / "r.md").read_text("utf-8")
