"""Scan findings + control catalogue + blueprint and spec facts -> one typed compliance report.

The report never claims more than the evidence shows: the status algorithm is status.py, the
facts facts.py, the per-control notes notes.py, the annex annex.py. This module finds the spec,
reads it (generator.spec.read), scans the blueprint with the report's own date, ties every
finding to the controls of the catalogue and assembles the Report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

from generator import __version__, naming
from generator.blueprint import group_measures
from generator.controls import controls
from generator.report.annex import annex
from generator.report.deployed import deployed
from generator.report.facts import blueprint_facts, deployment, find_spec, review
from generator.report.life import life
from generator.report.life import load as load_evidence
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
    Deployment,
    Evidence,
    EvidenceGroup,
    Life,
    Report,
    Review,
    SpecIssue,
    Summary,
    Unassessed,
    Weakened,
)
from generator.report.notes import lock_sentence
from generator.report.notes import notes as control_notes
from generator.report.provisions import article_key, label, provisions, unassessed
from generator.report.status import control_result, provision, sort_evidence, where_in_spec
from generator.scan import Finding, ScanResult, scan
from generator.spec import Problem, Weakening, read
from generator.spec.errors import format_path


def _evidence(f: Finding) -> Evidence:
    if f.status == "unknown":
        # What a check could not tell is open: a person must judge it (the finding says what
        # would make it known), never a pass.
        return Evidence(check_id=f.check_id, check_name=f.check_name, status="open",
                        resource=f.resource, file=f.file, line=f.line, source="scan",
                        reason=None, details=tuple(f"{f.check_id} could not tell on {f.resource}: {d}"
                                                   for d in f.details))
    return Evidence(check_id=f.check_id, check_name=f.check_name, status=f.status,
                    resource=f.resource, file=f.file, line=f.line, source="scan",
                    reason=f.skip_reason, details=tuple(f.details))


def _issue(p: Problem) -> SpecIssue:
    return SpecIssue(line=p.line, column=p.column, path=format_path(p.path), message=p.message,
                     article=p.article)


def _weakened(m: Weakening) -> Weakened:
    return Weakened(control=m.control, key=format_path(m.path), line=m.line if m.present else 0,
                    message=m.message, article=m.article, level=m.level)


SPEC_OFF = "measure off in the spec"
"""The check name of a measure the spec leaves off with personal data (a FAIL of the spec)."""


def _spec_evidence(issues: tuple[SpecIssue, ...], rev: Review, spec_file: str,
                   weakened: tuple[Weakened, ...], personal: bool | None,
                   ) -> dict[str, list[Evidence]]:
    """Evidence the spec itself gives: lapses against a control (expired access, an overdue
    review), with personal data every measure it leaves off, and what it lowers (open)."""
    out: dict[str, list[Evidence]] = {}
    for m in weakened:
        if m.level == "off" and personal:
            out.setdefault(m.control, []).append(Evidence(
                check_id="SPEC", check_name=SPEC_OFF, status="failed",
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


_EXPIRES = re.compile(r"current objects expire after (?P<days>[0-9]+) days")


def _fact_evidence(dep: Deployment, by_control: dict[str, list[Evidence]],
                   spec_file: str) -> tuple[dict[str, list[Evidence]], dict[str, str]]:
    """What the deployment's facts add to the scan: retention held against the spec (a bucket
    whose lifecycle outlives it; backups, whose retention is the instances' to enforce) and data
    on volumes (the application's duty). Also the controls that do not apply, and why."""
    out: dict[str, list[Evidence]] = {}
    inapplicable: dict[str, str] = {}

    def add(control: str, status: str, name: str, resource: str, detail: str) -> None:
        out.setdefault(control, []).append(Evidence(
            check_id="SPEC", check_name=name, status=status, resource=resource, file=spec_file,
            line=0, source="spec", reason=None, details=(detail,)))

    buckets = {b.name: b for b in dep.buckets}
    spec_buckets = tuple(b.name[len(dep.name) + 1:] for b in dep.buckets if b.role == "data")
    for e in by_control.get("GDPR-LIM-1", []):
        owner = naming.owner(e.resource, tuple(g.name for g in dep.groups), spec_buckets)
        bucket = buckets.get(naming.bucket(dep.name, owner.name)) if owner.kind == "bucket" \
            else None
        found = [int(m.group("days")) for d in e.details if (m := _EXPIRES.search(d))]
        if e.status == "passed" and bucket and bucket.retention_days is not None and any(
                days > bucket.retention_days for days in found):
            add("GDPR-LIM-1", "failed", "a bucket expires its data within the spec's retention",
                e.resource, f"{bucket.name}: current objects expire after {max(found)} days, "
                f"later than the {bucket.retention_days} days the spec states for it")
    direct = [g.name for g in dep.groups if g.network != "private"]
    if dep.personal and dep.egress is None and direct:
        add("GDPR-EGR-1", "open", "data leaves only for listed destinations", ", ".join(direct),
            f"No group is on the private network: {', '.join(direct)} reach the internet "
            "directly (outbound HTTPS, DNS and NTP to any address), so nothing limits where "
            "data from them can go; a person must decide whether that is acceptable.")
    apps = [a.name for a in dep.access if a.kind == "application"]
    if apps:
        where = (f"the bucket {dep.state_bucket}" if dep.state_bucket
                 else "a local file on the machine that runs Terraform")
        add("GDPR-ACC-1", "open", "application credentials are individual", ", ".join(apps),
            f"The secret of the application credential{'s' if len(apps) > 1 else ''} "
            f"{', '.join(apps)} is stored in the Terraform state ({where}): whoever can read "
            "the state can act as the application until it expires, and who can is not shown "
            "by the blueprint; a person must check who reads the state.")
    if not any(bk.personal for bk in dep.buckets):
        inapplicable["GDPR-LIM-1"] = (
            "No bucket holds the deployment's personal data"
            + (" (the state bucket holds its Terraform state, kept on purpose)."
               if dep.state_bucket else "."))
    b = dep.backup
    if b and b.bucket and dep.personal:
        longest = (f"restic forget keeps snapshots up to {b.keep_words} old, prune deletes what "
                   f"they alone used within a week, the bucket removes deleted versions "
                   f"{b.noncurrent_days} days later: data deleted on a volume stays in the "
                   f"backups up to {b.longest_days} days")
        if b.longest_days > dep.retention_days:
            add("GDPR-LIM-1", "failed", "backups keep data within the retention", "backup.keep",
                f"{b.bucket}: {longest}, longer than the {dep.retention_days}-day retention "
                "(data.retention_days).")
        else:
            add("GDPR-LIM-1", "open", "backups keep data within the retention", "backup.keep",
                f"{b.bucket} holds personal data whose current objects the storage never "
                f"expires (restic reuses them): its retention is enforced by the timers on the "
                f"instances of {', '.join(b.groups)}, not by the storage ({longest}, within "
                f"the {dep.retention_days}-day retention while those timers run).")
    if b and b.bucket:
        if b.lock_mode == "COMPLIANCE":
            add("GDPR-BAK-2", "open", "backups survive someone who controls an instance",
                b.bucket, f"{lock_sentence(b.lock_mode, b.lock_days)} Instance keys that could "
                "add backups but not delete them would make this pass; this blueprint has none.")
    else:
        inapplicable["GDPR-BAK-2"] = "No backup bucket: nothing to protect (see GDPR-BAK-1)."
    on_volumes = [g.name for g in dep.groups if g.volumes and not g.collector]
    if dep.personal and on_volumes:
        add("GDPR-LIM-2", "open", "data on volumes is deleted in time", ", ".join(on_volumes),
            "Retention of data on volumes is the application's duty: nothing in the blueprint "
            f"deletes data from the volumes of {', '.join(on_volumes)}.")
    elif not dep.personal:
        inapplicable["GDPR-LIM-2"] = "The spec declares no personal data."
    else:
        inapplicable["GDPR-LIM-2"] = ("No instance group keeps data on volumes (the log "
                                      "collector's logs are deleted after their retention by "
                                      "its own timer).")
    return out, inapplicable


_OWNER_ORDER = {"group": 0, "bucket": 1, "backup": 2, "state": 3, "access": 4, "providers": 5,
                "other": 6}


def group_evidence(evidence: tuple[Evidence, ...], dep: Deployment | None,
                   ) -> tuple[EvidenceGroup, ...]:
    """Evidence grouped by the part of the deployment it is about and by check: a DPO reads
    "instance group web: logins end on their dates (2 instances)", not forty addresses."""
    groups = tuple(g.name for g in dep.groups) if dep else ()
    buckets = tuple(b.name[len(dep.name) + 1:] for b in dep.buckets if b.role == "data") \
        if dep else ()
    bucket_names = {b: naming.bucket(dep.name, b) for b in buckets} if dep else {}
    out: dict[tuple[str, str, str], list[Evidence]] = {}
    order: dict[str, tuple[int, str]] = {}
    for e in evidence:
        if e.source == "spec":
            key = ("the spec", e.check_id, e.status)
            order["the spec"] = (-1, "")
        else:
            owner = naming.owner(e.resource, groups, buckets)
            if owner.kind == "providers":
                label = f"providers and backend ({e.file})"
            elif owner.kind == "bucket":
                label = f"bucket {bucket_names.get(owner.name, owner.name)}"
            elif owner.kind == "other":
                label = f"other resources ({e.file})"
            else:
                label = owner.describe()
            key = (label, e.check_id, e.status)
            order[label] = (_OWNER_ORDER[owner.kind], label)
        out.setdefault(key, []).append(e)
    result = []
    for (label, check_id, status), items in sorted(
            out.items(), key=lambda kv: (order[kv[0][0]], _STATUS_RANK[kv[0][2]], kv[0][1])):
        result.append(EvidenceGroup(
            owner=label, check_id=check_id, check_name=items[0].check_name, status=status,
            details=tuple(dict.fromkeys(d for e in items for d in e.details)),
            reasons=tuple(dict.fromkeys(e.reason for e in items if e.reason)),
            resources=tuple(dict.fromkeys(e.resource for e in items)),
            places=tuple(dict.fromkeys(f"{e.file}:{e.line}" if e.line else e.file
                                       for e in items if e.file))))
    return tuple(result)


_STATUS_RANK = {"failed": 0, "open": 1, "skipped": 2, "passed": 3}


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
          today: dt.date, result: ScanResult | None = None,
          plan: str | Path | None = None, evidence: str | Path | None = None) -> Report:
    """The compliance report of the blueprint in `directory` (scanned unless `result` is given,
    with `today` as the date every check judges expiry against). What runs is read from `plan`
    (a `terraform show -json` plan, its prior state) or else DIR/terraform.tfstate; without
    either the report says it describes the spec. `evidence`: the log collector's export of
    the instances' self-checks (generator/report/life.py), read before anything is scanned.

    The spec is `spec_path`, else the manifest's spec file or `<DIR>.yaml` next to the
    directory; when none is found the report says so and leaves out what only the spec knows.
    """
    root = Path(directory).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"not a directory: {root}")
    evidence_doc = load_evidence(evidence) if evidence is not None else None
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

    inapplicable: dict[str, str] = {}
    if dep is not None:
        facts_evidence, inapplicable = _fact_evidence(dep, by_control, spec_file)
        for cid, items in facts_evidence.items():
            by_control.setdefault(cid, []).extend(items)

    notes = control_notes(dep, rev)
    results = [control_result(c, by_control.get(c.id, []), notes.get(c.id, ()), personal,
                              [m for m in weakened if m.control == c.id], inapplicable.get(c.id))
               for c in controls()]
    results = [dataclasses.replace(r, by_owner=group_evidence(r.evidence, dep)) for r in results]
    served: dict[str, list[ControlResult]] = {}
    for r in results:
        for a in r.articles:
            served.setdefault(a, []).append(r)
    provision_results = tuple(provision(a, served[a]) for a in sorted(served, key=article_key))
    not_assessed = tuple(
        Unassessed(article=a, label=label(a), requirement=provisions()[a], why=why)
        for a, why in sorted(unassessed().items(), key=lambda kv: article_key(kv[0]))
        if a not in served)

    running = None
    if dep is not None:
        running = deployed(root, tuple(g.name for g in dep.groups),
                           tuple(b.name[len(dep.name) + 1:] for b in dep.buckets
                                 if b.role == "data"), Path(plan) if plan else None)
    in_life = None
    if evidence_doc is not None and spec is not None:
        instances = {f"{naming.group_resource(spec.name, g.name)}-{i}":
                     (g.name, group_measures(spec, g))
                     for g in spec.groups for i in range(1, g.count + 1)}
        in_life = life(evidence_doc, Path(evidence).name, instances)  # type: ignore[arg-type]
    other_ev = sort_evidence(other)
    verdict, reasons = _verdict(results, weakened, personal, other_ev, rev, spec_status, facts,
                                in_life)
    if running is not None and (running.waiting or running.source is None):
        reasons.append(running.note)
    count = {s: sum(r.status == s for r in results) for s in STATUSES}
    pcount = {s: sum(p.status == s for p in provision_results) for s in STATUSES}
    summary = Summary(controls=tuple(count.items()), provisions=tuple(pcount.items()),
                      findings_passed=result.summary.passed,
                      findings_failed=result.summary.failed,
                      findings_skipped=result.summary.skipped,
                      findings_unknown=result.summary.unknown)
    return Report(
        schema=SCHEMA_VERSION, generator_version=__version__, today=today.isoformat(),
        name=dep.name if dep else root.name, verdict=verdict, verdict_why=tuple(reasons),
        summary=summary, review=rev, blueprint=facts, spec_status=spec_status,
        spec_issues=issues, deployment=dep, weakened=weakened,
        provisions=provision_results, unassessed=not_assessed,
        controls=tuple(results), other_findings=other_ev,
        other_passed=tuple(sorted(other_passed.items())),
        annex=annex(dep, rev, today, running) if dep else (),
        status_meaning=tuple((s, STATUS_MEANING[s]) for s in STATUSES), deployed=running,
        life=in_life)


def _verdict(results: list[ControlResult], weakened: tuple[Weakened, ...], personal: bool | None,
             other: tuple[Evidence, ...], rev: Review, spec_status: str,
             facts: BlueprintFacts, in_life: Life | None = None) -> tuple[str, list[str]]:
    """The report's verdict and why: FAIL on any failure (a self-check that failed in life
    too), INCOMPLETE without a readable spec, else NO FAILURES FOUND (never PASS: some controls
    are always assessed by hand)."""
    reasons: list[str] = []
    failed_controls = [r.id for r in results if r.status == FAIL]
    if failed_controls:
        reasons.append("Controls failed: " + ", ".join(failed_controls) + ".")
    failed_in_life = [r for r in in_life.rows if r.status == FAIL] if in_life else []
    if failed_in_life:
        reasons.append("Failed in life (" + (in_life.source if in_life else "") + "): " + "; ".join(
            f"{r.control} on {r.instance} ({r.measure}, checked {r.checked_at})"
            for r in failed_in_life) + ".")
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
    if in_life is not None:
        stale = sorted({f"{r.instance} ({r.measure})" for r in in_life.rows
                        if r.status == NOT_EVIDENCED})
        if stale:
            reasons.append("Not evidenced in life (no fresh result in " + in_life.source + "): "
                           + ", ".join(stale) + ".")
        if in_life.never_reported:
            reasons.append("Never reported a self-check (" + in_life.source + "): "
                           + ", ".join(in_life.never_reported) + ".")
    changed = [*facts.changed_files, *facts.missing_files]
    if changed:
        reasons.append("Files changed since generation: " + ", ".join(changed)
                       + ". The scan reflects the files as they are now.")
    if facts.spec_matches is False:
        reasons.append("The spec changed after the blueprint was generated: the diagram and "
                       "annex describe the spec, the scan describes the blueprint.")
    return verdict, reasons


__all__ = ["build", "find_spec"]
