"""What the blueprint and the report say about themselves and about Safespring is true.

- Skip reasons claim nothing the blueprint does not do: no module says bucket contents are
  copied to another site, because nothing copies them (the backup job's paths are volume
  mountpoints and /etc, read here from the generated cloud-init), and the report shows that gap.
- A claim about Safespring's own measures (disk encryption, three copies, the 90-day S3
  request log) names the Safespring page it comes from, wherever a DPO or reviewer reads it.
- No project jargon ("seed") reaches a report a DPO hands an auditor.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from generator.controls import controls
from generator.report import build, to_html, to_json, to_markdown
from generator.scan import ScanResult
from tests.conftest import ROOT, TODAY
from tests.report.conftest import BLUEPRINTS

MODULES = ROOT / "modules"
SKIP = re.compile(r"#\s*checkov:skip=(?P<id>[A-Z0-9_]+):(?P<reason>.*)$", re.M)
# A claim about what Safespring does, and the sources a sentence making it must name.
SAFESPRING_CLAIMS = re.compile(r"dm-crypt|(Safespring|platform)('s)? (own )?disk encryption|"
                               r"encrypts (every|all) disks?|three copies|90 days", re.I)
SOURCES = ("docs.safespring.com/", "Safespring's GDPR page on safespring.com")


def skips() -> list[tuple[str, str, str]]:
    """(module, check id, reason) of every skip written in a module."""
    return [(path.parent.name, m["id"], m["reason"].strip())
            for path in sorted(MODULES.glob("*/main.tf"))
            for m in SKIP.finditer(path.read_text("utf-8"))]


def paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n\s*[-|]", text) if p.strip()]


def test_no_skip_reason_claims_copies_to_another_site() -> None:
    found = {(module, check): reason for module, check, reason in skips()}
    assert {m for m, c in found if c == "CKV_AWS_144"} == {"bucket", "state-bucket",
                                                           "backup-bucket"}
    for (module, check), reason in found.items():
        assert "backup tooling" not in reason and "copies to another site" not in reason, module
        if check == "CKV_AWS_144" and module != "backup-bucket":
            assert "no copy" in reason, (module, reason)
    assert "makes no copy of the bucket on another site" in found[("bucket", "CKV_AWS_144")]
    # Client-side encryption of data buckets is not enforced, and the reason says so.
    assert "Nothing in this blueprint encrypts objects before upload or enforces it" in found[
        ("bucket", "CKV_AWS_145")]


def test_backups_copy_volumes_and_etc_never_buckets() -> None:
    """The claim the skip reasons and the report make, read from the generated blueprint."""
    directory = BLUEPRINTS / "patient-portal"
    spec = yaml.safe_load((BLUEPRINTS / "patient-portal.yaml").read_text("utf-8"))
    buckets = [f"{spec['name']}-{b['name']}" for b in spec["buckets"]]
    mountpoints = {f"/srv/{v['name']}" for g in spec["instances"] for v in g.get("volumes", [])}
    seen = 0
    for path in sorted((directory / "cloud-init").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text("utf-8"))
        for entry in doc.get("write_files") or []:
            if entry["path"] == "/etc/safespring-blueprints/backup/config.json":
                config = json.loads(entry["content"])
                assert set(config["paths"]) <= mountpoints and config["system_paths"] == ["/etc"]
                assert config["bucket"] not in buckets
                seen += 1
        assert not any(b in path.read_text("utf-8") for b in buckets), path.name
    assert seen == 2  # web and db; the log collector is not backed up


def test_the_report_shows_that_data_buckets_are_not_copied(portal_scan: ScanResult) -> None:
    report = build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan)
    bak = next(c for c in report.controls if c.id == "GDPR-BAK-1")
    assert any("Not backed up, and not copied to another site: patient-portal-exports" in n
               for n in bak.notes)
    assert "nothing copies a bucket's objects to another site" in bak.safespring
    backups = next(s for s in report.annex if s.title == "Backups and restore")
    assert any("patient-portal-exports is not backed up and not copied to another site" in p
               for p in backups.paragraphs)
    for writer in (to_markdown, to_html):
        assert "not copied to another site" in writer(report)


def test_the_restore_drill_the_report_names_is_installed_on_every_backed_up_group(
        portal_scan: ScanResult) -> None:
    """The annex's weekly restore drill, read from the generated user data (the drill itself,
    both ways, is booted in tests/vm/test_app_group.py)."""
    report = build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan)
    backups = next(s for s in report.annex if s.title == "Backups and restore")
    assert any("once a week a restore drill restores the newest backup" in p
               for p in backups.paragraphs)
    drilled = []
    for path in sorted((BLUEPRINTS / "patient-portal" / "cloud-init").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text("utf-8"))
        units = {e["path"] for e in doc.get("write_files") or []}
        enabled = [c for c in doc.get("runcmd") or [] if "ssb-backup-drill.timer" in c]
        if "/etc/safespring-blueprints/backup/config.json" in units:
            assert "/etc/systemd/system/ssb-backup-drill.timer" in units, path.name
            assert enabled and "enable" in enabled[0], path.name
            drilled.append(path.stem)
    assert drilled == ["db", "web"]


def dpo_texts(portal_scan: ScanResult) -> dict[str, str]:
    """Everything a DPO or reviewer reads: reports, catalogue, docs, module READMEs, skips."""
    texts = {f"report.{name}": writer(build(BLUEPRINTS / "patient-portal", today=TODAY,
                                            result=portal_scan))
             for name, writer in (("md", to_markdown), ("html", to_html))}
    texts["docs/controls.md"] = (ROOT / "docs" / "controls.md").read_text("utf-8")
    for path in sorted(MODULES.glob("*/README.md")):
        texts[str(path.relative_to(ROOT))] = path.read_text("utf-8")
    texts["skip reasons"] = "\n\n".join(reason for _, _, reason in skips())
    texts["catalogue"] = "\n\n".join(f"{c.safespring}\n\n{c.gaps}" for c in controls())
    return texts


def test_claims_about_safespring_name_their_source(portal_scan: ScanResult) -> None:
    unsourced = []
    for name, text in dpo_texts(portal_scan).items():
        plain = re.sub(r"<[^>]+>", " ", text).replace("\\_", "_")
        for paragraph in paragraphs(plain):
            if SAFESPRING_CLAIMS.search(paragraph) and not any(s in paragraph for s in SOURCES):
                unsourced.append(f"{name}: {paragraph[:160]}")
    assert not unsourced, "\n".join(unsourced)


@pytest.mark.parametrize("name", ["patient-portal", "minimal"])
def test_no_project_jargon_in_the_report(name: str, portal_scan: ScanResult,
                                         minimal_scan: ScanResult) -> None:
    result = portal_scan if name == "patient-portal" else minimal_scan
    report = build(BLUEPRINTS / name, today=TODAY, result=result)
    for writer in (to_markdown, to_html, to_json):
        text = writer(report)
        assert not re.search(r"\bseed", text, re.I), re.search(r".{60}\bseed.{60}", text,
                                                              re.I | re.S)


def test_the_cited_pages_are_a_known_few() -> None:
    """Every docs.safespring.com page cited is one of these, each read for the claim it backs
    (a new citation is added here after reading the page)."""
    cited: set[str] = set()
    for path in [*MODULES.glob("*/main.tf"), *MODULES.glob("*/README.md"),
                 ROOT / "generator" / "data" / "controls.yaml",
                 ROOT / "generator" / "report" / "annex.py",
                 ROOT / "generator" / "features" / "backup.py"]:
        cited |= set(re.findall(r"docs\.safespring\.com/[a-z0-9_/-]+/", Path(path).read_text()))
    assert cited == {"docs.safespring.com/storage/s3-compatibility/",
                     "docs.safespring.com/storage/s3-advanced/",
                     "docs.safespring.com/service/audit_logging/",
                     "docs.safespring.com/compute/volume/",
                     "docs.safespring.com/compute/flavors/",
                     "docs.safespring.com/compute/loadbalancing/",
                     "docs.safespring.com/compute/security-compliance/logging-monitoring/"}


def test_the_journal_retention_is_stated_as_a_maximum(portal_scan: ScanResult) -> None:
    """journald's MaxRetentionSec removes older entries; it keeps nothing for that long. The
    annex says so, and names the size cap that can shorten it."""
    report = build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan)
    logging = next(s for s in report.annex if s.title == "Logging and intrusion detection")
    first = logging.paragraphs[0]
    assert "for at most 180 days" in first and "MaxRetentionSec" in first
    assert "caps the journal's size" in first and "nothing in the blueprint sizes" in first
    text = " ".join(p for s in report.annex for p in s.paragraphs)
    assert "journal persistently for" not in text
    # What the guest configuration writes is a maximum, as stated.
    web = (BLUEPRINTS / "patient-portal" / "cloud-init" / "web.yaml").read_text("utf-8")
    assert "MaxRetentionSec=180d" in web and "MaxFileSec" not in web


def test_the_backup_check_timer_is_claimed_only_where_it_runs(portal_scan: ScanResult) -> None:
    """ssb-backup-check.timer exists only on groups that are backed up (those with volumes,
    except the collector); the annex names those groups, not "every instance"."""
    report = build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan)
    text = " ".join(p for s in report.annex for p in s.paragraphs)
    assert "A timer on every instance" not in text
    assert "On the instances of web and db (the groups that are backed up) a timer checks" in text
    timers = {path.stem for path in (BLUEPRINTS / "patient-portal" / "cloud-init").glob("*.yaml")
              if "ssb-backup-check.timer" in path.read_text("utf-8")}
    assert timers == {"web", "db"}


@pytest.mark.parametrize("name", ["patient-portal", "minimal"])
def test_no_markup_escapes_in_prose(name: str, portal_scan: ScanResult,
                                    minimal_scan: ScanResult) -> None:
    """Texts a DPO reads carry no Markdown of their own: the report's Markdown shows no
    escaped backticks (the catalogue and skip reasons name commands in words)."""
    result = portal_scan if name == "patient-portal" else minimal_scan
    report = build(BLUEPRINTS / name, today=TODAY, result=result)
    assert "\\`" not in to_markdown(report)
    assert "`" not in " ".join(f"{c.safespring} {c.gaps}" for c in controls())


def test_no_egress_evidence_without_a_private_network(minimal_scan: ScanResult) -> None:
    """minimal has no group on the private network: CKV_GDPR_25 has nothing to judge, so
    GDPR-EGR-1 is not a PASS and adds nothing to Art. 44 or 25(2)."""
    report = build(BLUEPRINTS / "minimal", today=TODAY, result=minimal_scan)
    egr = next(c for c in report.controls if c.id == "GDPR-EGR-1")
    assert egr.status == "NOT APPLICABLE" and not egr.evidence
    for p in report.provisions:
        if p.article in ("44", "25(2)"):
            assert ("GDPR-EGR-1", "NOT APPLICABLE") in p.controls
