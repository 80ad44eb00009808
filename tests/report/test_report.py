"""The compliance report against real scans of the committed blueprints and mutated copies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from generator.controls import controls
from generator.report import (
    FAIL,
    NOT_APPLICABLE,
    NOT_EVIDENCED,
    PASS,
    build,
    to_html,
    to_json,
    to_markdown,
)
from generator.report.diagram import svg
from generator.report.model import STATUSES
from generator.scan import ScanResult, scan
from generator.spec import check_file
from tests.conftest import TODAY
from tests.report.conftest import BLUEPRINTS, copy_blueprint

HOSTILE = "<script>alert(1)</script> ${x} `tick` | pipe [link](http://evil.example) &amp; # h"


def expected_status(control_checks: tuple[str, ...], result: ScanResult, personal: bool,
                    off: bool = False, fails_with: tuple[str, ...] = (),
                    lowered: bool = False) -> str:
    """The status rule restated from the scan and whether the spec leaves the measure off or
    lowers it."""
    mine = [f for f in result.findings if f.check_id in control_checks]
    against = [f for f in result.findings if f.check_id in fails_with and f.status == "failed"]
    if any(f.status == "failed" for f in mine) or against or (off and personal):
        return FAIL
    if off:
        return NOT_APPLICABLE
    if lowered:
        return NOT_EVIDENCED
    if any(f.status == "passed" for f in mine):
        return PASS
    if not control_checks or mine or personal:
        return NOT_EVIDENCED
    return NOT_APPLICABLE


def assert_no_unearned_pass(report) -> None:
    """No control passes without a passed finding of one of its own checks."""
    for c in report.controls:
        if c.status == PASS:
            assert any(e.status == "passed" and e.check_id in c.checks for e in c.evidence), c.id
            assert not any(e.status == "failed" for e in c.evidence), c.id
        if c.status == FAIL:
            assert any(e.status == "failed" for e in c.evidence), c.id
    for p in report.provisions:
        statuses = [s for _, s in p.controls]
        worst = min(statuses, key=STATUSES.index)
        if worst == NOT_APPLICABLE and PASS in statuses:
            worst = PASS
        assert p.status == worst, p.label
        if p.status == PASS:
            assert all(s in (PASS, NOT_APPLICABLE) for s in statuses)


# Every control's status in the committed examples, and why (tests/report/test_spec_mutations.py
# switches each measure on, off and half-on).
EXPECTED = {
    "patient-portal": {
        "GDPR-LOG-1": PASS, "GDPR-ACC-1": NOT_EVIDENCED,  # ci-deployer's secret is in the state
        "GDPR-ACC-2": PASS, "GDPR-ENC-1": PASS,
        "GDPR-ENC-2": NOT_EVIDENCED,  # min_tls "1.2" for special categories (lowered)
        "GDPR-BAK-1": PASS,
        "GDPR-BAK-2": NOT_EVIDENCED,  # COMPLIANCE protects the last 14 days only
        "GDPR-CHG-1": NOT_EVIDENCED,  # judged on a plan: the HCL scan skips it
        "GDPR-REV-1": NOT_EVIDENCED,  # a process control
        "GDPR-RED-1": PASS, "GDPR-RES-1": PASS, "GDPR-RES-2": PASS, "GDPR-EGR-1": PASS,
        "GDPR-LIM-1": NOT_EVIDENCED,  # backups: retention enforced by the instances' timers
        "GDPR-LIM-2": NOT_EVIDENCED,  # data on volumes: the application's duty
    },
    "minimal": {
        "GDPR-LOG-1": NOT_APPLICABLE, "GDPR-ACC-1": PASS, "GDPR-ACC-2": PASS,
        "GDPR-ENC-1": NOT_APPLICABLE, "GDPR-ENC-2": PASS, "GDPR-BAK-1": NOT_APPLICABLE,
        "GDPR-BAK-2": NOT_APPLICABLE, "GDPR-CHG-1": NOT_EVIDENCED, "GDPR-REV-1": NOT_APPLICABLE,
        "GDPR-RED-1": NOT_APPLICABLE, "GDPR-RES-1": PASS, "GDPR-RES-2": PASS,
        "GDPR-EGR-1": NOT_APPLICABLE,
        "GDPR-LIM-1": NOT_APPLICABLE, "GDPR-LIM-2": NOT_APPLICABLE,
    },
}


@pytest.mark.parametrize("name", ["patient-portal", "minimal"])
def test_statuses_match_the_scan(name: str, portal_scan: ScanResult, minimal_scan: ScanResult,
                                 ) -> None:
    result = portal_scan if name == "patient-portal" else minimal_scan
    report = build(BLUEPRINTS / name, today=TODAY, result=result)
    assert report.spec_status == "ok"
    assert not report.review.overdue
    by_id = {c.id: c for c in report.controls}
    assert list(by_id) == [c.id for c in controls()]
    assert {cid: c.status for cid, c in by_id.items()} == EXPECTED[name]
    weakened = check_file(BLUEPRINTS / f"{name}.yaml", TODAY).weakenings
    off = {m.control for m in weakened if m.level == "off"}
    for c in controls():
        # The scan alone never overrules: what the rule restated from the scan says is the
        # status, unless the spec or the deployment's facts leave something open.
        opened = any(e.status == "open" for e in by_id[c.id].evidence)
        if not opened and by_id[c.id].status != NOT_APPLICABLE:
            assert by_id[c.id].status == expected_status(
                c.checks, result, report.deployment.personal, c.id in off, c.fails_with), c.id
    assert_no_unearned_pass(report)
    # Every skip keeps its written reason.
    for c in report.controls:
        for e in c.evidence:
            if e.status == "skipped":
                assert e.reason
    for e in report.other_findings:
        if e.status == "skipped":
            assert e.reason


def test_minimal_has_nothing_to_encrypt(minimal_scan: ScanResult) -> None:
    report = build(BLUEPRINTS / "minimal", today=TODAY, result=minimal_scan)
    enc = next(c for c in report.controls if c.id == "GDPR-ENC-1")
    assert enc.status == NOT_APPLICABLE and not enc.evidence
    assert report.deployment is not None
    assert all(not g.volumes for g in report.deployment.groups)


def test_open_ssh_to_the_world_fails_access(tmp_path: Path) -> None:
    directory = copy_blueprint("patient-portal", tmp_path)
    main = directory / "main.tf"
    text = main.read_text("utf-8")
    block = re.search(r'"web/ingress-ssh-192\.0\.2\.0/24" = \{.*?\n    \}', text, re.S)
    assert block, "the web SSH rule is no longer in main.tf: update this test"
    opened = block.group(0).replace('"192.0.2.0/24"', '"0.0.0.0/0"')
    main.write_text(text.replace(block.group(0), opened), "utf-8")

    report = build(directory, today=TODAY, result=scan(directory))
    acc = next(c for c in report.controls if c.id == "GDPR-ACC-2")
    assert acc.status == FAIL
    failed = [e for e in acc.evidence if e.status == "failed"]
    assert any("web/ingress-ssh" in e.resource for e in failed)
    assert report.verdict == FAIL
    assert "main.tf" in report.blueprint.changed_files
    for p in report.provisions:
        if any(cid == "GDPR-ACC-2" for cid, _ in p.controls):
            assert p.status == FAIL, p.label
    assert_no_unearned_pass(report)
    html = to_html(report)
    assert re.search(r'id="gdpr-acc-2".*?badge s-fail">FAIL<', html, re.S)
    assert "**FAIL**" in to_markdown(report)


def test_tls_in_transit_counts_only_evidence_for_tls(portal_scan: ScanResult) -> None:
    """GDPR-ENC-2's evidence is the TLS-only bucket policies; the security-group check (egress
    to the world on tcp 80 and 123 included) is no evidence for TLS and does not appear there.
    The example lowers its endpoint to TLS 1.2 for special categories, so the control is NOT
    EVIDENCED however well its buckets do."""
    report = build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan)
    enc2 = next(c for c in report.controls if c.id == "GDPR-ENC-2")
    assert enc2.status == NOT_EVIDENCED
    assert {e.check_id for e in enc2.evidence if e.source == "scan"} == {"CKV_GDPR_9"}
    assert all(e.status == "passed" for e in enc2.evidence if e.source == "scan")
    enc2 = next(c for c in report.controls if c.id == "GDPR-ENC-2")
    enc2 = dataclasses.replace(enc2, evidence=tuple(e for e in enc2.evidence
                                                   if e.source == "scan"))
    assert all(e.resource.endswith("aws_s3_bucket_policy.this") for e in enc2.evidence)
    assert enc2.fails_with == ("CKV_GDPR_2", "CKV_GDPR_20")  # a bucket with no policy at all
    acc2 = next(c for c in report.controls if c.id == "GDPR-ACC-2")
    assert any(e.check_id == "CKV_GDPR_2" for e in acc2.evidence)


def test_a_plain_port_open_to_the_world_fails_tls_in_transit(tmp_path: Path) -> None:
    directory = copy_blueprint("minimal", tmp_path)
    main = directory / "main.tf"
    rule = ('"app/egress-tcp-80-world-ipv4" = {\n      group            = "app"\n'
            '      direction        = "egress"')
    text = main.read_text("utf-8")
    assert rule in text, "the minimal blueprint's port 80 rule moved: update this test"
    main.write_text(text.replace(rule, rule.replace('"egress"', '"ingress"')), "utf-8")

    report = build(directory, today=TODAY, result=scan(directory))
    by_id = {c.id: c for c in report.controls}
    for cid in ("GDPR-ACC-2", "GDPR-ENC-2"):
        assert by_id[cid].status == FAIL, cid
        assert any(e.check_id == "CKV_GDPR_2" and e.status == "failed" and "tcp-80" in e.resource
                   for e in by_id[cid].evidence), cid
    # Only the failure reaches GDPR-ENC-2: the other rules' passes stay with GDPR-ACC-2.
    assert not any(e.check_id == "CKV_GDPR_2" and e.status == "passed"
                   for e in by_id["GDPR-ENC-2"].evidence)
    assert "Also failed by: `CKV_GDPR_2`" in to_markdown(report)


def test_overdue_review_and_expired_access_are_flagged(portal_scan: ScanResult) -> None:
    later = dt.date(2027, 12, 1)  # after review_by 2027-06-30 and after both access expiries
    report = build(BLUEPRINTS / "patient-portal", today=later, result=portal_scan)
    assert report.review.overdue and report.review.days_left == -154
    assert report.verdict == FAIL
    by_id = {c.id: c for c in report.controls}
    assert by_id["GDPR-REV-1"].status == FAIL
    assert by_id["GDPR-ACC-1"].status == FAIL
    assert report.spec_status == "invalid" and report.deployment is not None
    assert any(a.expired for a in report.deployment.access)
    html = to_html(report)
    assert re.search(r'<p class="overdue" role="alert">REVIEW OVERDUE[^<]*2027-06-30', html)
    assert "> **REVIEW OVERDUE" in to_markdown(report)
    assert "EXPIRED" in " ".join(p for s in report.annex for p in s.paragraphs)


def test_same_inputs_same_bytes(minimal_scan: ScanResult) -> None:
    first = build(BLUEPRINTS / "minimal", today=TODAY, result=minimal_scan)
    again = build(BLUEPRINTS / "minimal", today=TODAY, result=scan(BLUEPRINTS / "minimal"))
    for writer in (to_json, to_markdown, to_html):
        assert writer(first) == writer(again)


def test_json_is_sorted_and_versioned(portal_scan: ScanResult) -> None:
    out = to_json(build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan))
    doc = json.loads(out)
    assert doc["schema"] == 3  # 3: "weakened" (off or lowered) replaced "off_in_spec"
    assert out == json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert {c["status"] for c in doc["controls"]} <= set(STATUSES)
    assert [p["article"] for p in doc["provisions"]][:2] == ["5(1)(e)", "5(1)(f)"]


def test_hostile_text_is_escaped(tmp_path: Path, minimal_scan: ScanResult) -> None:
    directory = copy_blueprint("minimal", tmp_path)
    spec = tmp_path / "minimal.yaml"
    spec.write_text(spec.read_text("utf-8")
                    + f"description: {json.dumps(HOSTILE)}\ncontroller: {json.dumps(HOSTILE)}\n",
                    "utf-8")
    report = build(directory, today=TODAY, result=minimal_scan)
    assert report.spec_status == "ok" and report.deployment.description == HOSTILE
    assert report.blueprint.spec_matches is False  # the spec changed after generation

    html = to_html(report)
    assert "<script" not in html and "alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; ${x}" in html
    assert 'href="http://evil' not in html
    WellFormed.check(html)

    md = to_markdown(report)
    assert "<script>" not in md and "\\<script\\>" in md
    assert "[link](http" not in md and "\\[link\\](http://evil.example)" in md
    assert "\\| pipe" in md and "\\&amp;" in md

    assert json.loads(to_json(report))["deployment"]["description"] == HOSTILE


def test_hostile_names_in_the_diagram_are_escaped(portal_scan: ScanResult) -> None:
    d = build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan).deployment
    groups = tuple(replace(g, endpoints=(HOSTILE,)) for g in d.groups)
    hostile = replace(d, name=HOSTILE, groups=groups, tang_servers=(HOSTILE,))
    drawing = svg(hostile)
    assert "<script" not in drawing
    root = ET.fromstring(drawing)
    texts = [("".join(t.itertext())) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any(t.startswith("<script>alert(1)") for t in texts)


def test_missing_spec_is_said_not_guessed(tmp_path: Path, minimal_scan: ScanResult) -> None:
    directory = copy_blueprint("minimal", tmp_path, with_spec=False)
    report = build(directory, today=TODAY, result=minimal_scan)
    assert report.spec_status == "missing" and report.deployment is None
    assert report.verdict != PASS and report.verdict in ("INCOMPLETE", FAIL)
    assert "minimal.yaml" in report.spec_issues[0].message
    html = to_html(report)
    assert "No diagram" in html and "<svg" not in html
    WellFormed.check(html)
    assert "no spec found" in to_markdown(report)


# ---- HTML shape ------------------------------------------------------------------------------

VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "source", "col", "area", "base"}
# SVG elements written self-closing (`<path .../>`); html.parser reports them as startend.


class WellFormed(HTMLParser):
    """Every element closed in order; collects the attributes that could fetch something."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.links: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self._record(tag, attrs)
        self._in_style = tag == "style"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
        self._record(tag, attrs)

    def handle_endtag(self, tag):
        self._in_style = False
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        if self._in_style:
            self.style += data

    def _record(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "srcset", "poster", "data", "action"):
                self.links.append((tag, name, value or ""))
            if value and "url(" in value:
                self.links.append((tag, name, value))

    @classmethod
    def check(cls, html: str) -> WellFormed:
        parser = cls()
        parser.feed(html)
        parser.close()
        assert parser.stack == [], f"unclosed: {parser.stack}"
        return parser


def test_html_is_well_formed_and_self_contained(portal_scan: ScanResult) -> None:
    html = to_html(build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan))
    parser = WellFormed.check(html)
    assert html.startswith("<!DOCTYPE html>")
    # Nothing is fetched: no scripts, no stylesheets, no images; links only inside the page.
    assert not parser.tags & {"script", "link", "img", "iframe", "object", "embed"}
    for tag, name, value in parser.links:
        if name in ("href", "xlink:href"):
            assert value.startswith("#"), (tag, value)
        else:
            assert re.fullmatch(r"url\(#[\w-]+\)", value), (tag, name, value)
    assert "@import" not in parser.style and "url(" not in parser.style
    # The SVG is inline and is XML on its own.
    svg = re.search(r"<svg.*?</svg>", html, re.S)
    assert svg
    root = ET.fromstring(svg.group(0))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for expected in ("web", "\u00d7 2", "db", "log-collector", "sto2", "sto1",
                     "LUKS2 + Tang", "portal.example.se", "192.0.2.0/24", "patient-portal-backup"):
        assert expected in texts, expected


def test_every_provision_and_control_is_in_every_format(portal_scan: ScanResult) -> None:
    report = build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan)
    html, md = to_html(report), to_markdown(report)
    for p in report.provisions:
        assert f"<strong>{p.label}</strong>" in html
        assert p.label in md
    for c in report.controls:
        assert f'id="{c.id.lower()}"' in html and f"### {c.id}" in md
        if c.gaps:
            assert c.gaps.split(";")[0][:40] in md.replace("\\", "")
    titles = [s.title for s in report.annex]
    assert "Encryption" in titles and "Who has access, and until when" in titles
    annex = " ".join(p for s in report.annex for p in s.paragraphs)
    for fact in ("sto2", "Stockholm", "LUKS2", "2555 days", "180 days", "anna.svensson",
                 "2027-06-30", "patient-portal-backup", "https://tang1.example.se"):
        assert fact in annex, fact


def test_access_says_the_application_secret_is_in_the_state(portal_scan: ScanResult,
                                                            tmp_path: Path) -> None:
    """GDPR-ACC-1 and the annex say where the application credential's secret ends up. It is
    true: the provider schema (3.0.0) has `secret` as an attribute, which Terraform stores in
    state like every attribute, and no write-only form of it that would stay out."""
    from generator.terraform.schema import PROVIDER_ADDRESS, load_schema

    schema = load_schema(tmp_path)["provider_schemas"][PROVIDER_ADDRESS]
    attributes = schema["resource_schemas"]["openstack_identity_application_credential_v3"][
        "block"]["attributes"]
    assert "secret" in attributes and not any(name.endswith("_wo") for name in attributes)
    assert 'openstack_identity_application_credential_v3" "this"' in (
        BLUEPRINTS / "patient-portal" / "modules" / "access" / "main.tf").read_text("utf-8")

    report = build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan)
    acc1 = next(c for c in report.controls if c.id == "GDPR-ACC-1")
    note = " ".join(acc1.notes)
    assert "ci-deployer (until 2027-09-30) is stored in the Terraform state, in the bucket " \
           "tfstate-patient-portal on sto2" in note
    assert "Terraform stores it in the state" in acc1.safespring
    assert "nothing secret" not in acc1.safespring.lower()
    access = next(s for s in report.annex if s.title == "Who has access, and until when")
    assert any("(ci-deployer) is stored in the Terraform state" in p for p in access.paragraphs)
    for writer in (to_markdown, to_html, to_json):
        assert "is stored in the Terraform state" in writer(report)


def test_the_annex_gives_the_site_of_every_resource(portal_scan: ScanResult) -> None:
    """The backup bucket is on the backup site (sto1), everything else on the site (sto2)."""
    report = build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan)
    location = next(s for s in report.annex if s.title == "Where the data is stored")
    text = " ".join(location.paragraphs)
    assert "All instances" not in text
    for bucket in report.deployment.buckets:
        site = {"backup": "sto1"}.get(bucket.role, "sto2")
        assert bucket.site == site
        assert re.search(rf"{bucket.name} \([^)]*\) on {site} in Stockholm", text), bucket.name
    assert re.search(r"on Safespring's site sto2 in Stockholm \(SE\): web \(2 instances, with "
                     r"volume data\), db \(1 instance, with volume pgdata\), egress-proxy "
                     r"\(2 instances\) and log-collector", text)


def test_the_annex_shows_the_egress_allow_list(portal_scan: ScanResult) -> None:
    report = build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan)
    section = next(s for s in report.annex if s.title == "Egress from the private network")
    text = " ".join(section.paragraphs)
    assert "allow no outbound traffic to the internet" in text
    for host in ("tang1.example.se", "tang2.example.se", "s3.sto1.safedc.net", "s3.sto2.safedc.net",
                 "archive.ubuntu.com"):
        assert host in text


@pytest.mark.parametrize("name", ["patient-portal", "minimal"])
def test_an_empty_scan_evidences_nothing(name: str) -> None:
    """With no findings at all nothing passes; personal data turns 'nothing to check' into a
    question for a person (NOT EVIDENCED) rather than NOT APPLICABLE."""
    empty = ScanResult(root=str(BLUEPRINTS / name), findings=())
    report = build(BLUEPRINTS / name, today=TODAY, result=empty)
    personal = report.deployment.personal
    off = {m.control for m in report.weakened if m.level == "off"}
    for c in report.controls:
        assert c.status != PASS
        if c.id in off:
            assert c.status == (FAIL if personal else NOT_APPLICABLE), c.id
        elif not personal:
            assert c.status in (NOT_APPLICABLE, NOT_EVIDENCED), c.id
        else:
            assert c.status == NOT_EVIDENCED, c.id
    assert all(p.status != PASS for p in report.provisions)


def test_the_evidence_reads_by_group_and_measure(portal_scan: ScanResult) -> None:
    """Evidence is listed by what it is about (an instance group, a bucket, the backups, the
    providers) and by check, with the Terraform addresses folded under each line: every
    finding is in exactly one line, and no line is about more than one part of the deployment."""
    report = build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan)
    groups = {g.name for g in report.deployment.groups}
    for c in report.controls:
        folded = [r for g in c.by_owner for r in g.resources]
        assert sorted(folded) == sorted(e.resource for e in c.evidence), c.id
        assert len(c.by_owner) <= len(c.evidence)
    acc2 = next(c for c in report.controls if c.id == "GDPR-ACC-2")
    owners = {g.owner for g in acc2.by_owner}
    assert {f"instance group {g}" for g in groups} <= owners
    assert len(acc2.evidence) > 100 and len(acc2.by_owner) < 30  # readable, not 120 lines
    md = to_markdown(report)
    block = md[md.index("### GDPR-ACC-2"):md.index("### GDPR-ENC-1")]
    assert "- **instance group web**" in block and "<details><summary>Terraform addresses" in block
    html = to_html(report)
    assert '<p class="owner"><strong>instance group db</strong></p>' in html
    assert html.count("<details><summary>Terraform addresses</summary>") == sum(
        1 for c in report.controls for g in c.by_owner if g.check_id != "SPEC")
