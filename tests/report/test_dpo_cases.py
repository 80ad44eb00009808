"""The report as a DPO tried it: a school platform (three tiers, central logging, hourly
backups) and a research VM holding health data, each generated, scanned and reported. No PASS
may claim more than the blueprint does, and the annex and the table of buckets may not
contradict a PASS."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from generator import api
from generator.report import FAIL, NOT_EVIDENCED, PASS, Report, build, to_markdown
from tests.conftest import FIXTURES, TODAY

CASES = ("school-platform", "research-vm")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    out = {}
    for case in CASES:
        spec = FIXTURES / "specs" / f"{case}.yaml"
        target = tmp_path_factory.mktemp(case) / case
        api.generate(spec, target, on=TODAY)
        out[case] = build(target, spec, today=TODAY)
    return out


def _control(report: Report, cid: str):  # type: ignore[no-untyped-def]
    return next(c for c in report.controls if c.id == cid)


def _annex(report: Report) -> str:
    return " ".join(p for s in report.annex for p in s.paragraphs)


def test_the_school_platforms_partial_keep_is_said() -> None:
    from generator.spec import check_file

    checked = check_file(FIXTURES / "specs" / "school-platform.yaml", TODAY)
    said = [w.message for w in checked.warnings if w.path == ("backup", "keep")]
    assert said == ["gives hourly, daily only: weekly 4 and monthly 12 are filled in from the "
                    "defaults, so the backups keep data for up to 12 months; write every count "
                    "(0 for none) to keep only what you mean"]


@pytest.mark.parametrize("case", CASES)
def test_no_pass_the_annex_contradicts(reports: dict[str, Report], case: str) -> None:
    report = reports[case]
    annex = _annex(report)
    assert report.verdict != FAIL, report.verdict_why
    # Retention: never "keeps personal data for at most N days"; the backup bucket's data ends
    # by restic on the instances, which is no PASS; volumes are the application's duty.
    assert "keeps personal data for at most" not in annex
    lim1, lim2 = _control(report, "GDPR-LIM-1"), _control(report, "GDPR-LIM-2")
    assert lim1.status == NOT_EVIDENCED and "timers on the instances" in lim1.why
    assert lim2.status == NOT_EVIDENCED
    assert "Retention of data on volumes is the application's duty" in lim2.why
    assert "Retention of data on volumes is the application's duty" in annex
    backup = next(b for b in report.deployment.buckets if b.role == "backup")
    assert backup.expiry.startswith("never by the storage: restic forget on the instances")
    art5e = next(p for p in report.provisions if p.article == "5(1)(e)")
    assert art5e.status == NOT_EVIDENCED
    # Backups: restorable after a loss (PASS), not safe from whoever controls an instance.
    assert _control(report, "GDPR-BAK-1").status == PASS
    bak2 = _control(report, "GDPR-BAK-2")
    assert bak2.status == NOT_EVIDENCED and "COMPLIANCE lock" in bak2.why
    assert "can delete them for good" in annex and "recoverable after ransomware" not in annex
    # Logging: the journal's days are a maximum; the backup check is claimed where it runs.
    assert "journal on disk for at most" in annex and "A timer on every instance" not in annex
    md = to_markdown(report)
    assert f"| {backup.name} | {backup.site} | backup | yes | never by the storage: restic " in md
    assert "| never |" not in md


def test_the_researchers_logins_are_the_evidence_of_individual_access(
        reports: dict[str, Report]) -> None:
    """The research VM: three researchers, each with an account of their own that ends on
    their date; ACC-1 passes on that evidence, listed per person, and on nothing else."""
    report = reports["research-vm"]
    acc1 = _control(report, "GDPR-ACC-1")
    assert acc1.status == PASS
    logins = [e for e in acc1.evidence if e.check_id == "CKV_GDPR_27" and e.status == "passed"]
    assert logins and all(e.resource.startswith("module.instances_analysis.") or
                          e.resource.startswith("module.egress_proxy.") or
                          e.resource.startswith("module.log_collector.") for e in logins)
    analysis = next(e for e in logins if e.resource.startswith("module.instances_analysis."))
    assert set(analysis.details) == {"ana.lind: last day 2027-02-28", "jon.ek: last day 2027-05-31",
                                     "pi.holm: last day 2027-08-31 with sudo",
                                     "debian (the OpenStack key pair): locked"}
    assert not any(e.check_id == "CKV_GDPR_12" and e.status == "passed" for e in acc1.evidence)
    notes = " ".join(acc1.notes)
    for person, last in (("ana.lind", "2027-02-28"), ("jon.ek", "2027-05-31")):
        assert (f"{person} (person, member, until {last}): an account of their own on analysis, "
                f"without sudo; every instance refuses it, and its key, after {last}.") in notes
    assert "No break-glass login" in notes


def test_access_judged_on_a_later_day_fails(reports: dict[str, Report], tmp_path: Path) -> None:
    """After a researcher's last day the report of that day fails individual access: the spec
    rule names the entry, and the scan (judging the same day) the instance accounts."""
    spec = FIXTURES / "specs" / "research-vm.yaml"
    target = tmp_path / "research-vm"
    api.generate(spec, target, on=TODAY)
    later = build(target, spec, today=dt.date(2027, 3, 15))
    acc1 = _control(later, "GDPR-ACC-1")
    assert acc1.status == FAIL
    failed = [d for e in acc1.evidence if e.status == "failed" for d in e.details]
    assert any("account ana.lind ended on 2027-02-28 (today is 2027-03-15)" in d for d in failed)
    assert any("access expired on 2027-02-28" in d for d in failed)
