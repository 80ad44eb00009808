"""Scan Terraform with Checkov in-process: the GDPR pack plus Checkov's built-in checks.

Two modes, the same checks:
- HCL mode (`scan(DIR)`): Checkov evaluates the .tf files itself. Fast (no Terraform), but its
  evaluator leaves `try()`, many functions, map-of-map variables and module cycles unresolved;
  the checks then fail closed and say so.
- Plan mode (`scan(PLAN.json)`, or `scan_plan`): Terraform's own plan (`terraform show -json`)
  is scanned, with every value Terraform knows at plan time; what the plan does not record is
  read from its `configuration` section and from the .tf source it was made from. Findings point
  at the .tf file and line of the block (not the JSON), and `# checkov:skip=ID:reason` comments
  in the block apply as they do in HCL mode.

Checkov is imported inside the scan only (about 1.3 s of imports), so `generate` stays fast.
The scan is offline: nothing is downloaded from Prisma Cloud. Results are typed, tied to the
control catalogue (controls, GDPR articles), and can be written as text, JSON, SARIF or JUnit.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import yaml

from generator import __version__
from generator.checks import UNKNOWN_MARK
from generator.checks import check as check_meta
from generator.controls import articles_for_check, controls_for_check
from generator.evidence.change import HCL_REASON
from generator.evidence.change import ID as DATA_AT_RISK

POLICIES_DIR = Path(__file__).resolve().parent / "policies"
CUSTOM_PREFIX = "CKV_GDPR_"
# What Checkov writes as the suppress comment of `# checkov:skip=ID` with no reason.
_NO_REASON = {"", "No comment provided"}
# Checks that judge a plan only: in HCL mode they report themselves skipped, for this reason.
_PLAN_ONLY = {DATA_AT_RISK: HCL_REASON}
_UNSILENCED = ("a `# checkov:skip` comment does not silence data at risk: back the data up and "
               "allow it by name (apply --allow-replace ADDRESS), which the allowance record keeps")


@dataclass(frozen=True)
class Finding:
    """One check on one resource (or provider block)."""

    check_id: str
    check_name: str
    status: str  # "passed" | "failed" | "unknown" | "skipped"
    resource: str
    file: str
    line: int
    severity: str | None
    guideline: str | None
    controls: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    skip_reason: str | None = None
    details: tuple[str, ...] = ()

    @property
    def custom(self) -> bool:
        """True for checks of the GDPR pack."""
        return self.check_id.startswith(CUSTOM_PREFIX)


@dataclass(frozen=True)
class Summary:
    """Findings counted by outcome."""

    passed: int
    failed: int
    skipped: int
    unknown: int = 0


@dataclass(frozen=True)
class ScanResult:
    """Every finding of one scan of a blueprint directory."""

    root: str
    findings: tuple[Finding, ...]
    mode: str = "hcl"  # "hcl" | "plan"
    summary: Summary = field(init=False)

    def __post_init__(self) -> None:
        count = {s: sum(1 for f in self.findings if f.status == s)
                 for s in ("passed", "failed", "skipped", "unknown")}
        object.__setattr__(self, "summary", Summary(**count))

    @property
    def failed(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status == "failed")

    @property
    def unknown(self) -> tuple[Finding, ...]:
        """What the checks could not tell (each says what would make it known)."""
        return tuple(f for f in self.findings if f.status == "unknown")

    @property
    def ok(self) -> bool:
        """No failed check: the exit code of a scan command. An unknown is no failure: it is
        shown, and a report counts it as not evidenced."""
        return not self.failed


@cache
def baseline() -> dict[str, str]:
    """Built-in checks reported as skipped, with their reasons (data/baseline.yaml)."""
    text = resources.files("generator").joinpath("data/baseline.yaml").read_text("utf-8")
    skips = yaml.load(text, Loader=yaml.CSafeLoader).get("skip") or {}
    for check_id, reason in skips.items():
        if not str(reason or "").strip():
            raise ValueError(f"baseline.yaml: {check_id} is skipped without a reason")
    return {k: " ".join(str(v).split()) for k, v in skips.items()}


def _runner_filter(framework: str) -> Any:
    from checkov.common.bridgecrew.platform_integration import bc_integration
    from checkov.runner_filter import RunnerFilter

    # The runner equivalent of --skip-download: no guidelines or policies from Prisma Cloud.
    bc_integration.skip_download = True
    return RunnerFilter(framework=[framework], show_progress_bar=False, download_external_modules=False)


def _checkov_report(root: Path) -> Any:
    # Lazy: importing Checkov costs more than the rest of `generate`; and only the built-in
    # checks of the types in the directory are imported (generator/checkov_load.py).
    from generator import checkov_load

    checkov_load.load(checkov_load.types_in_directory(root))
    from checkov.terraform.runner import Runner

    from generator.evidence.check import lift_checkov_limits

    lift_checkov_limits()  # again: what the runner imported since the pack's first import
    report = Runner().run(root_folder=str(root), external_checks_dir=[str(POLICIES_DIR)],
                          runner_filter=_runner_filter("terraform"))
    return report[0] if isinstance(report, list) else report


def _checkov_plan_report(plan_file: Path) -> Any:
    from generator import checkov_load

    checkov_load.load(checkov_load.types_in_plan(plan_file.read_text("utf-8")))
    from checkov.terraform.plan_runner import Runner

    report = Runner().run(root_folder=None, files=[str(plan_file)],
                          external_checks_dir=[str(POLICIES_DIR)],
                          runner_filter=_runner_filter("terraform_plan"))
    return report[0] if isinstance(report, list) else report


@dataclass(frozen=True)
class _Place:
    """Where a finding is shown and which suppression comments apply to it."""

    file: str
    line: int
    skips: dict[str, str]


def _suppression(record: Any, status: str, place: _Place | None) -> tuple[str, str | None, tuple[str, ...]]:
    """Status, skip reason and details after `# checkov:skip=` comments (Checkov applies them
    itself in HCL mode; in plan mode `place` holds the comments of the block in the source)."""
    check_id = record.check_id
    if check_id in _PLAN_ONLY:
        # Judged on a plan or not at all: skipped means no plan (HCL mode), whatever a comment
        # says; on a plan a comment never silences it, so `scan DIR --plan`, `scan PLAN.json`
        # and apply's refusal agree.
        if status == "skipped":
            return "skipped", _PLAN_ONLY[check_id], ()
        details = tuple(record.details or ())
        if status == "failed" and place is not None and check_id in place.skips:
            details += (_UNSILENCED,)
        return status, None, details
    if place is not None and check_id in place.skips:
        status = "skipped"
        comment = place.skips[check_id]
    else:
        comment = str(record.check_result.get("suppress_comment") or "").strip()
    if status == "skipped":
        if comment in _NO_REASON:
            return "failed", None, ("skipped in the resource without a reason: write one",)
        return "skipped", comment, ()
    details = tuple(record.details or ())
    if status == "failed" and details and all(d.startswith(UNKNOWN_MARK) for d in details):
        return "unknown", None, tuple(d[len(UNKNOWN_MARK):] for d in details)
    return status, None, details


def _finding(record: Any, status: str, root: Path, place: _Place | None = None) -> Finding:
    check_id = record.check_id
    status, skip_reason, details = _suppression(record, status, place)
    if status == "failed" and check_id in baseline() and not details:
        status, skip_reason = "skipped", f"baseline: {baseline()[check_id]}"
    severity = getattr(record.severity, "name", None) if record.severity else None
    if place is not None:
        file_path, line = place.file, place.line
    else:
        file_path = str(record.file_path or "").lstrip("/")
        line = int((record.file_line_range or [0, 0])[0])
    return Finding(
        check_id=check_id, check_name=record.check_name, status=status,
        resource=record.resource, file=file_path, line=line,
        severity=severity, guideline=record.guideline,
        controls=tuple(c.id for c in controls_for_check(check_id)),
        articles=articles_for_check(check_id), skip_reason=skip_reason, details=details,
    )


PARSE = "PARSE"
"""The finding of a file Checkov could not parse: nothing in it was judged, which must show."""


def _unparsed(root: Path, report: Any) -> list[Finding]:
    return [Finding(check_id=PARSE, check_name="Checkov parses every file it scans",
                    status="failed", resource=os.path.relpath(str(path), root), file=os.path.relpath(
                        str(path), root), line=0, severity="HIGH", guideline=None,
                    details=("Checkov could not parse this file, so nothing in it was judged",))
            for path in sorted(getattr(report, "parsing_errors", None) or ())]


MODULE = "MODULE"
"""The finding of a module call whose code is not on disk: nothing in it was judged."""


def _unloaded(root: Path) -> list[Finding]:
    from generator.evidence.source import LOCAL_SOURCE, unloaded_modules

    out = []
    for block, source in unloaded_modules(root):
        where = os.path.relpath(block.file.parent, root)
        if source.startswith(LOCAL_SOURCE):
            why = (f"its source {source} is not a directory next to {block.file.name}, so "
                   "nothing in it was judged")
        else:
            why = (f"its source {source} is not on disk, so nothing in it was judged: run "
                   f"`terraform init` in {where if where != '.' else 'the scanned directory'} "
                   "(modules land in .terraform/modules) and scan again, or scan the plan "
                   "(scan DIR --plan)")
        out.append(Finding(
            check_id=MODULE, check_name="Every module a root calls is scanned", status="unknown",
            resource=f"module.{block.labels[0]}", file=os.path.relpath(block.file, root),
            line=block.start, severity="HIGH", guideline=None,
            details=(why,)))
    return out


def _result(root: Path, report: Any, mode: str, place: Any = lambda record: None) -> ScanResult:
    findings = [
        *(_finding(r, "passed", root, place(r)) for r in report.passed_checks),
        *(_finding(r, "failed", root, place(r)) for r in report.failed_checks),
        *(_finding(r, "skipped", root, place(r)) for r in report.skipped_checks),
        *_unparsed(root, report),
        *(_unloaded(root) if mode == "hcl" else ()),
    ]
    findings.sort(key=_order)
    return ScanResult(root=str(root), findings=tuple(findings), mode=mode)


def _order(f: Finding) -> tuple[int, str, str]:
    """Failures first, then what could not be told, then the rest."""
    return ({"failed": 0, "unknown": 1}.get(f.status, 2), f.check_id, f.resource)


def scan(root: Path | str, *, today: dt.date | None = None) -> ScanResult:
    """Scan a directory (HCL mode) or a plan JSON file (plan mode, see `scan_plan`). Checks
    that judge dates (credential expiry, login end dates) judge them against `today`, else
    against SOURCE_DATE_EPOCH's day or the clock's."""
    from generator.evidence.day import judged_on

    root = Path(root).resolve()
    if root.is_file():
        return scan_plan(root, today=today)
    if not root.is_dir():
        raise FileNotFoundError(f"not a directory or plan file: {root}")
    with judged_on(today):
        return _result(root, _checkov_report(root), "hcl")


def _placer(plan_file: Path, source: Path | None) -> Any:
    """record -> _Place in the .tf source (None when the block cannot be found)."""
    from generator.evidence import plan as evidence_plan
    from generator.evidence.scope import provider_key
    from generator.evidence.source import blocks_in, resource_block

    plan = evidence_plan.load(str(plan_file))

    def place(record: Any) -> _Place | None:
        if source is None or plan is None:
            return None
        address = str(record.resource)
        block = None
        resource = plan.get(address)
        if resource is not None:
            block = resource_block(source, plan, tuple(n for n, _ in resource.modules), resource.type,
                                   resource.name, resource.mode)
        elif "." in address and not address.startswith("module."):
            name, _, alias = provider_key(address).partition(".")
            found = blocks_in(source)
            block = next((b for b in found if b.kind == "provider" and b.labels == (name,)
                          and (b.raw("alias") or "") == alias), None)
            # A provider configured only by the environment has no block: its requirement is
            # where the root names it (not the plan JSON, which the user does not keep).
            block = block or next((b for b in found if b.kind == "terraform"
                                   and re.search(rf"\b{re.escape(name)}\s*=", b.text)), None)
        if block is None:
            return None
        return _Place(os.path.relpath(block.file, source), block.start, block.skips())

    return place


def scan_plan(plan_file: Path | str, *, source: Path | str | None = None,
              today: dt.date | None = None) -> ScanResult:
    """Scan a plan JSON (`terraform show -json`). `source` is the directory the plan was made
    from (default: the plan file's directory when it holds .tf files): findings are placed in
    its .tf files, its suppression comments apply, and the checks read from it what the plan
    does not record. Without it, findings point into the JSON and such evidence fails closed."""
    from generator.evidence.source import register_source, source_root

    plan_file = Path(plan_file).resolve()
    if not plan_file.is_file():
        raise FileNotFoundError(f"not a plan file: {plan_file}")
    try:
        doc = json.loads(plan_file.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"{plan_file} is not JSON: {error}") from None
    if not isinstance(doc, dict) or "planned_values" not in doc:
        raise ValueError(f"{plan_file} is not a Terraform plan (terraform show -json PLANFILE)")
    if source is not None:
        register_source(plan_file, source)
    found = source_root(str(plan_file))
    from generator.evidence.day import judged_on

    with judged_on(today):
        report = _checkov_plan_report(plan_file)
    root = found or plan_file.parent
    result = _result(root, report, "plan", _placer(plan_file, found))
    return _with_deletions(result, doc, plan_file, found)


def _with_deletions(result: ScanResult, doc: dict[str, Any], plan_file: Path,
                    source: Path | None) -> ScanResult:
    """Add a CKV_GDPR_23 finding for each data-holding resource the plan deletes outright (it
    is absent from the planned values, so no Checkov check was given it) and for each loss in
    place on a resource the check does not judge (a lifecycle, a lock, an attachment)."""
    from generator.evidence import plan as evidence_plan
    from generator.evidence.change import at_risk
    from generator.evidence.source import resource_block

    judged = {f.resource for f in result.findings if f.check_id == DATA_AT_RISK}
    plan = evidence_plan.load(str(plan_file))
    root = Path(result.root)
    added = []
    for risk in at_risk(doc):
        if risk.address in judged:
            continue
        modules, rtype, name, _, mode = evidence_plan.split_address(risk.address)
        block = resource_block(source, plan, tuple(n for n, _ in modules), rtype, name, mode) \
            if source is not None and plan is not None else None
        place = _Place(os.path.relpath(block.file, source), block.start, block.skips()) \
            if block is not None and source is not None else None
        silenced = (_UNSILENCED,) if place is not None and DATA_AT_RISK in place.skips else ()
        added.append(Finding(
            check_id=DATA_AT_RISK, check_name=check_meta(DATA_AT_RISK).name, status="failed",
            resource=risk.address, file=place.file if place else os.path.relpath(plan_file, root),
            line=place.line if place else 0, severity="CRITICAL",
            guideline=next((c.url for c in controls_for_check(DATA_AT_RISK)), None),
            controls=tuple(c.id for c in controls_for_check(DATA_AT_RISK)),
            articles=articles_for_check(DATA_AT_RISK),
            skip_reason=None, details=(risk.describe(), *silenced)))
    if not added:
        return result
    findings = sorted((*result.findings, *added), key=_order)
    return ScanResult(root=result.root, findings=tuple(findings), mode=result.mode)


# ---- output formats -----------------------------------------------------------------------


def to_json(result: ScanResult) -> str:
    """One object: summary plus one row per finding (for CI and the compliance report)."""
    doc = {"root": result.root, "mode": result.mode, "summary": asdict(result.summary),
           "findings": [asdict(f) for f in result.findings]}
    return json.dumps(doc, indent=2) + "\n"


_SARIF_LEVEL = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note", "INFO": "note"}


def to_sarif(result: ScanResult, *, uri_prefix: str = "") -> str:
    """SARIF 2.1.0 of the failed findings (code-scanning UIs show failures only), and of the
    unknown ones as notes.

    Paths are relative to the scanned directory; `uri_prefix` (the directory's path in its
    repository, e.g. `blueprints/portal/`) makes them relative to the repository root, where
    code scanning looks for them."""
    failed = (*result.failed, *result.unknown)
    rules: dict[str, dict[str, Any]] = {}
    for f in failed:
        rules.setdefault(f.check_id, {
            "id": f.check_id, "name": f.check_id,
            "shortDescription": {"text": f.check_name},
            "helpUri": f.guideline or "",
            "help": {"text": f"{f.check_name}. GDPR: {', '.join('Art. ' + a for a in f.articles) or '-'}"},
            "properties": {"severity": f.severity or "", "controls": list(f.controls),
                           "gdpr": list(f.articles)},
        })
    results = [{
        "ruleId": f.check_id,
        "level": "note" if f.status == "unknown" else _SARIF_LEVEL.get(f.severity or "", "error"),
        "message": {"text": ("UNKNOWN: " if f.status == "unknown" else "")
                    + f"{f.check_name} ({f.resource})"
                    + (f": {'; '.join(f.details)}" if f.details else "")},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": uri_prefix + f.file},
            "region": {"startLine": max(f.line, 1)}}}],
    } for f in failed]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "safespring-blueprints scan", "version": __version__,
                                      "rules": list(rules.values())}},
                  "results": results}],
    }
    return json.dumps(doc, indent=2) + "\n"


def to_junit(result: ScanResult) -> str:
    """JUnit XML: one test case per finding, grouped by check."""
    suites = ET.Element("testsuites", name="safespring-blueprints scan",
                        tests=str(len(result.findings)), failures=str(result.summary.failed),
                        skipped=str(result.summary.skipped + result.summary.unknown))
    by_check: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_check.setdefault(f.check_id, []).append(f)
    for check_id in sorted(by_check):
        group = by_check[check_id]
        suite = ET.SubElement(suites, "testsuite", name=check_id, tests=str(len(group)),
                              failures=str(sum(f.status == "failed" for f in group)),
                              skipped=str(sum(f.status in ("skipped", "unknown") for f in group)))
        for f in group:
            case = ET.SubElement(suite, "testcase", classname=check_id, name=f.resource,
                                 file=f.file, line=str(f.line))
            if f.status == "failed":
                failure = ET.SubElement(case, "failure", message=f.check_name, type=f.severity or "")
                failure.text = "\n".join([*f.details, f"GDPR: {', '.join(f.articles)}",
                                          f.guideline or ""])
            elif f.status == "skipped":
                ET.SubElement(case, "skipped", message=f.skip_reason or "")
            elif f.status == "unknown":
                ET.SubElement(case, "skipped", message="UNKNOWN: " + "; ".join(f.details))
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def summary_line(result: ScanResult) -> str:
    """`2 failed, 1 unknown, 40 passed, 3 skipped` (unknown only when there is one)."""
    s = result.summary
    return (f"{s.failed} failed, " + (f"{s.unknown} unknown, " if s.unknown else "")
            + f"{s.passed} passed, {s.skipped} skipped")


def to_text(result: ScanResult, *, show_passed: bool = False) -> str:
    """What a person reads in a terminal: failures with why and where, then a summary."""
    lines: list[str] = []
    for f in result.findings:
        if f.status == "passed" and not show_passed:
            continue
        mark = {"failed": "FAIL", "unknown": "UNKNOWN", "skipped": "SKIP", "passed": "PASS"}[f.status]
        lines.append(f"{mark} {f.check_id} {f.resource}  ({f.file}:{f.line})")
        lines.append(f"     {f.check_name}")
        for d in f.details:
            lines.append(f"     - {d}")
        if f.status == "skipped" and f.skip_reason:
            lines.append(f"     skipped: {f.skip_reason}")
        if f.status == "failed" and check_meta(f.check_id) is not None:
            lines.append(f"     fix: {check_meta(f.check_id).remediation}")  # type: ignore[union-attr]
        if f.status in ("failed", "unknown"):
            if f.articles:
                cited = ", ".join("Art. " + a for a in f.articles)
                lines.append(f"     GDPR {cited} ({', '.join(f.controls)})")
            if f.guideline:
                lines.append(f"     {f.guideline}")
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"
