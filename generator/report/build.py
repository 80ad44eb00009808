"""Scan findings + control catalogue + blueprint and spec facts -> one typed compliance report.

The report never claims more than the evidence shows: the status algorithm is status.py, the
facts facts.py, the per-control notes notes.py, the annex annex.py. This module finds the spec,
reads it (generator.spec.read), scans the blueprint with the report's own date, ties every
finding to the controls of the catalogue and assembles the Report.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from generator import __version__
from generator.controls import controls
from generator.report.annex import annex
from generator.report.facts import blueprint_facts, deployment, find_spec, review
from generator.report.model import (
    FAIL,
    INCOMPLETE,
    NO_FAILURES,
    NOT_EVIDENCED,
    SCHEMA_VERSION,
    STATUS_MEANING,
    STATUSES,
    BlueprintFacts,
    ControlResult,
    Evidence,
    Report,
    Review,
    SpecIssue,
    Summary,
    Unassessed,
    Weakened,
)
from generator.report.notes import notes as control_notes
from generator.report.provisions import article_key, label, provisions, unassessed
from generator.report.status import control_result, provision, sort_evidence, where_in_spec
from generator.scan import Finding, ScanResult, scan
from generator.spec import Problem, Weakening, read
from generator.spec.errors import format_path


def _evidence(f: Finding) -> Evidence:
    return Evidence(check_id=f.check_id, check_name=f.check_name, status=f.status,
                    resource=f.resource, file=f.file, line=f.line, source="scan",
                    reason=f.skip_reason, details=tuple(f.details))


def _issue(p: Problem) -> SpecIssue:
    return SpecIssue(line=p.line, column=p.column, path=format_path(p.path), message=p.message,
                     article=p.article)


def _weakened(m: Weakening) -> Weakened:
    return Weakened(control=m.control, key=format_path(m.path), line=m.line if m.present else 0,
                    message=m.message, article=m.article, level=m.level)


def _spec_evidence(issues: tuple[SpecIssue, ...], rev: Review, spec_file: str,
                   weakened: tuple[Weakened, ...], personal: bool | None,
                   ) -> dict[str, list[Evidence]]:
    """Evidence the spec itself gives: lapses against a control (expired access, an overdue
    review), with personal data every measure it leaves off, and what it lowers (open)."""
    out: dict[str, list[Evidence]] = {}
    for m in weakened:
        if m.level == "off" and personal:
            out.setdefault(m.control, []).append(Evidence(
                check_id="SPEC", check_name="measure off in the spec", status="failed",
                resource=m.key, file=spec_file, line=m.line, source="spec", reason=None,
                details=(f"{m.message} ({m.article})",)))
        elif m.level == "lowered":
            out.setdefault(m.control, []).append(Evidence(
                check_id="SPEC", check_name="measure lowered in the spec", status="open",
                resource=m.key, file=spec_file, line=m.line, source="spec", reason=None,
                details=(f"lowered in the spec, {where_in_spec(m)}: {m.message} ({m.article}).",)))
    for i in issues:
        if i.path.startswith("access"):
            out.setdefault("GDPR-ACC-1", []).append(Evidence(
                check_id="SPEC", check_name="access in the spec is current", status="failed",
                resource=i.path, file=spec_file, line=i.line, source="spec", reason=None,
                details=(i.message,)))
    if rev.overdue:
        out.setdefault("GDPR-REV-1", []).append(Evidence(
            check_id="SPEC", check_name="the review date has not passed", status="failed",
            resource="review_by", file=spec_file, line=0, source="spec", reason=None,
            details=(rev.message,)))
    return out


def _findings_by_control(result: ScanResult) -> tuple[dict[str, list[Evidence]],
                                                      list[Evidence], dict[str, int]]:
    """Findings tied to the controls that claim them (through the catalogue of this process,
    not the ids the scan recorded, so a scan result from elsewhere cannot disagree with the
    control list printed); the rest as failed/skipped evidence and passed counts."""
    by_control: dict[str, list[Evidence]] = {}
    other: list[Evidence] = []
    other_passed: dict[str, int] = {}
    for f in result.findings:
        claimed = [c.id for c in controls() if f.check_id in c.checks
                   or (f.status == "failed" and f.check_id in c.fails_with)]
        if claimed:
            for cid in claimed:
                by_control.setdefault(cid, []).append(_evidence(f))
        elif f.status == "passed":
            other_passed[f.check_id] = other_passed.get(f.check_id, 0) + 1
        else:
            other.append(_evidence(f))
    return by_control, other, other_passed


def build(directory: str | Path, spec_path: str | Path | None = None, *,
          today: dt.date, result: ScanResult | None = None) -> Report:
    """The compliance report of the blueprint in `directory` (scanned unless `result` is given,
    with `today` as the date every check judges expiry against).

    The spec is `spec_path`, else the manifest's spec file or `<DIR>.yaml` next to the
    directory; when none is found the report says so and leaves out what only the spec knows.
    """
    root = Path(directory).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"not a directory: {root}")
    if spec_path is not None:
        found: Path | None = Path(spec_path)
        tried: tuple[str, ...] = (str(spec_path),)
        if not found.is_file():
            found = None
    else:
        found, tried = find_spec(root)
    facts = blueprint_facts(root, found)
    weakened: tuple[Weakened, ...] = ()
    if found is None:
        spec, spec_status = None, "missing"
        issues: tuple[SpecIssue, ...] = (SpecIssue(
            0, 0, "(document)", "no spec found (looked for " + ", ".join(tried) + "); the "
            "diagram, the annex and the review date need it", None),)
    else:
        reading = read(found, today)
        spec, spec_status = reading.spec, reading.status
        issues = tuple(_issue(p) for p in reading.problems) or (
            (SpecIssue(0, 0, "(document)", reading.error, None),) if reading.error else ())
        weakened = tuple(_weakened(m) for m in reading.weakenings)
    dep = deployment(spec, today) if spec else None
    rev = review(spec.review_by if spec else None, today)
    if spec is None:
        rev = Review(None, None, False, "Unknown: the spec could not be read, so the review "
                     "date is not known.")

    result = result if result is not None else scan(root, today=today)
    by_control, other, other_passed = _findings_by_control(result)
    spec_file = found.name if found else ""
    personal = dep.personal if dep else None
    for cid, items in _spec_evidence(issues, rev, spec_file, weakened, personal).items():
        by_control.setdefault(cid, []).extend(items)

    notes = control_notes(dep, rev)
    results = [control_result(c, by_control.get(c.id, []), notes.get(c.id, ()), personal,
                              [m for m in weakened if m.control == c.id])
               for c in controls()]
    served: dict[str, list[ControlResult]] = {}
    for r in results:
        for a in r.articles:
            served.setdefault(a, []).append(r)
    provision_results = tuple(provision(a, served[a]) for a in sorted(served, key=article_key))
    not_assessed = tuple(
        Unassessed(article=a, label=label(a), requirement=provisions()[a], why=why)
        for a, why in sorted(unassessed().items(), key=lambda kv: article_key(kv[0]))
        if a not in served)

    other_ev = sort_evidence(other)
    verdict, reasons = _verdict(results, weakened, personal, other_ev, rev, spec_status, facts)
    count = {s: sum(r.status == s for r in results) for s in STATUSES}
    pcount = {s: sum(p.status == s for p in provision_results) for s in STATUSES}
    summary = Summary(controls=tuple(count.items()), provisions=tuple(pcount.items()),
                      findings_passed=result.summary.passed,
                      findings_failed=result.summary.failed,
                      findings_skipped=result.summary.skipped)
    return Report(
        schema=SCHEMA_VERSION, generator_version=__version__, today=today.isoformat(),
        name=dep.name if dep else root.name, verdict=verdict, verdict_why=tuple(reasons),
        summary=summary, review=rev, blueprint=facts, spec_status=spec_status,
        spec_issues=issues, deployment=dep, weakened=weakened,
        provisions=provision_results, unassessed=not_assessed,
        controls=tuple(results), other_findings=other_ev,
        other_passed=tuple(sorted(other_passed.items())),
        annex=annex(dep, rev, today) if dep else (),
        status_meaning=tuple((s, STATUS_MEANING[s]) for s in STATUSES))


def _verdict(results: list[ControlResult], weakened: tuple[Weakened, ...], personal: bool | None,
             other: tuple[Evidence, ...], rev: Review, spec_status: str,
             facts: BlueprintFacts) -> tuple[str, list[str]]:
    """The report's verdict and why: FAIL on any failure, INCOMPLETE without a readable spec,
    else NO FAILURES FOUND (never PASS: some controls are always assessed by hand)."""
    reasons: list[str] = []
    failed_controls = [r.id for r in results if r.status == FAIL]
    if failed_controls:
        reasons.append("Controls failed: " + ", ".join(failed_controls) + ".")
    off = [m for m in weakened if m.level == "off"]
    if off and personal:
        reasons.append("Measures off in the spec, which declares personal data: "
                       + ", ".join(where_in_spec(m) for m in off) + ".")
    other_failed = sorted({e.check_id for e in other if e.status == "failed"})
    if other_failed:
        reasons.append("Checks outside the catalogue failed: " + ", ".join(other_failed) + ".")
    if rev.overdue:
        reasons.append(rev.message)
    if spec_status == "invalid":
        reasons.append("The spec does not pass its rules today (see the spec problems).")
    verdict = FAIL if reasons else INCOMPLETE if spec_status != "ok" else NO_FAILURES
    if verdict == INCOMPLETE:
        reasons.append("The spec was not found or could not be read: the review date, access "
                       "and the deployment facts are unknown.")
    if verdict != FAIL:
        missing = [r.id for r in results if r.status == NOT_EVIDENCED]
        reasons.append("No check failed. " + (
            "Not evidenced by any check (assess by hand): " + ", ".join(missing) + "."
            if missing else "Every control with checks is evidenced."))
    changed = [*facts.changed_files, *facts.missing_files]
    if changed:
        reasons.append("Files changed since generation: " + ", ".join(changed)
                       + ". The scan reflects the files as they are now.")
    if facts.spec_matches is False:
        reasons.append("The spec changed after the blueprint was generated: the diagram and "
                       "annex describe the spec, the scan describes the blueprint.")
    return verdict, reasons


__all__ = ["build", "find_spec"]
