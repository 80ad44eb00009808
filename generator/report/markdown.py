"""The report as Markdown: for a repository next to the blueprint, or a pull request comment.

Every value from the spec, the scan or the catalogue goes through `md()` (markup characters
escaped, one line) or `code()` (resource names, paths), so a hostile description cannot open
markup or raw HTML. The diagram is left to the HTML report (Markdown viewers strip SVG).
"""

from __future__ import annotations

import re
from typing import Any

from generator.render.markdown import code
from generator.report.model import (
    FAIL,
    NOT_APPLICABLE,
    NOT_EVIDENCED,
    PASS,
    ControlResult,
    Evidence,
    Report,
    Weakened,
)

# Characters that open markup anywhere in a line (CommonMark + GFM tables and strikethrough).
_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
# Characters that open a block only at the start of a line: headings, lists, quotes, rules.
_LEADING = re.compile(r"^([#+\-=>]|[0-9]+[.)])")

MARK = {PASS: "PASS", FAIL: "**FAIL**", NOT_EVIDENCED: "NOT EVIDENCED",
        NOT_APPLICABLE: "NOT APPLICABLE"}


def md(value: Any, *, start: bool = False) -> str:
    """A value as inline Markdown text: one line, markup characters escaped, readable raw.

    `start`: the value begins a paragraph or list item, where `#`, `-` or `1.` open a block.
    """
    flat = " ".join(str(value).split())
    flat = _INLINE.sub(r"\\\1", flat)
    if not start:
        return flat
    return _LEADING.sub(lambda m: "\\" + m.group(0) if len(m.group(0)) == 1
                        else m.group(0)[:-1] + "\\" + m.group(0)[-1], flat)


def _status(status: str) -> str:
    return MARK.get(status, md(status))


_POLICY = "none: a policy of this project, not a requirement of the Regulation"


def _where(e: Evidence) -> str:
    loc = f"{e.file}:{e.line}" if e.line else e.file
    return code(loc) if loc else ""


_MARK = {"failed": "**FAIL**", "open": "OPEN", "skipped": "SKIP", "passed": "PASS"}


def _evidence_lines(c: ControlResult) -> list[str]:
    """The evidence by what it is about (an instance group, a bucket, the backups...) and by
    check, with what the checks found; the Terraform addresses folded underneath."""
    if not c.by_owner:
        return []
    lines = ["", "Evidence, by what it is about:", ""]
    owner = None
    for g in c.by_owner:
        if g.owner != owner:
            owner = g.owner
            lines.append(f"- **{md(owner)}**")
        said = "; ".join([*g.details, *g.reasons])
        count = (f" ({len(g.resources)} resources)" if len(g.resources) > 1 else "")
        lines.append(f"  - {_MARK[g.status]} {code(g.check_id)} {md(g.check_name)}{count}"
                     + (f": {md(said)}" if said else ""))
        if g.check_id != "SPEC":
            where = ", ".join(code(p) for p in g.places)
            lines.append("    <details><summary>Terraform addresses</summary> "
                         + ", ".join(code(r) for r in g.resources)
                         + (f" ({where})" if where else "") + "</details>")
    return lines


def _off_line(m: Weakened) -> str:
    return (f"- {code(m.key)} ({f'line {m.line}' if m.line else 'not in the spec'}), "
            f"[{md(m.control)}](#{m.control.lower()}): {md(m.message)} ({md(m.article)})")


def _life_lines(r: Report) -> list[str]:
    """Last verified in life: per instance and measure, from the collector's evidence export."""
    lf = r.life
    assert lf is not None
    out = ["", "## Last verified in life", "",
           f"From {code(lf.source)}, exported {md(lf.exported_at)} by the log collector "
           f"{code(lf.collector)} (`ssb-evidence export`): each instance's latest self-check "
           "(ssb-verify, hourly) of each measure it claims. Ages are counted to the export, "
           "not to this report: the report shows no more than the file.", ""]
    if lf.rows:
        out += ["| instance | measure | status | control | checked | last success | why |",
                "|---|---|---|---|---|---|---|"]
        out += [f"| {md(x.instance)} | {md(x.measure)} | {_status(x.status)} | {md(x.control)} | "
                f"{md(x.checked_at or 'never')} | {md(x.last_ok or 'never')} | {md(x.why)} |"
                for x in lf.rows]
    if lf.never_reported:
        out += ["", "Never reported a self-check (NOT EVIDENCED): "
                + ", ".join(code(n) for n in lf.never_reported) + "."]
    if lf.not_in_blueprint:
        out += ["", "In the file but not instances of this blueprint (not counted): "
                + ", ".join(code(n) for n in lf.not_in_blueprint) + "."]
    return out


def to_markdown(report: Report) -> str:
    """The whole report as one Markdown document."""
    r = report
    out = [f"# GDPR compliance report: {md(r.name)}", ""]
    out.append(f"Blueprint {code(r.blueprint.directory)}, report of {md(r.today)}, "
               f"safespring-blueprints {md(r.generator_version)}.")
    out += ["", f"## Verdict: {_status(r.verdict) if r.verdict == FAIL else md(r.verdict)}", ""]
    out += [f"- {md(why, start=True)}" for why in r.verdict_why]
    out.append("")
    if r.review.overdue:
        out += [f"> **{md(r.review.message)}**", ""]
    else:
        out += [f"Review: {md(r.review.message)}", ""]

    off = [m for m in r.weakened if m.level == "off"]
    lowered = [m for m in r.weakened if m.level == "lowered"]
    if off:
        personal = r.deployment is not None and r.deployment.personal
        out += ["## Measures off in the spec", "",
                ("The spec declares personal data and leaves out these measures: each one fails "
                 "its control." if personal else
                 "The spec declares no personal data and leaves out these measures: their "
                 "controls are NOT APPLICABLE here, never PASS."), ""]
        out += [_off_line(m) for m in off]
        out.append("")
    if lowered:
        out += ["## Measures lowered in the spec", "",
                "The spec keeps these measures but weaker than this generator's default for its "
                "data: their controls are NOT EVIDENCED until a person judges the choice.", ""]
        out += [_off_line(m) for m in lowered]
        out.append("")

    out += ["## What the statuses mean", "", "| status | meaning |", "|---|---|"]
    out += [f"| {_status(s)} | {md(m)} |" for s, m in r.status_meaning]
    out += ["", "A provision takes the worst status of the controls that serve it; "
            "nothing is shown as passing without a passed check on a resource.", ""]

    counts = ", ".join(f"{n} {s}" for s, n in r.summary.controls if n)
    out += ["## GDPR provisions", "", f"Controls: {md(counts)}. Scan findings: "
            f"{r.summary.findings_failed} failed, "
            + (f"{r.summary.findings_unknown} unknown, " if r.summary.findings_unknown else "")
            + f"{r.summary.findings_passed} passed, {r.summary.findings_skipped} skipped.", "",
            "| provision | what it requires | status | controls |", "|---|---|---|---|"]
    for p in r.provisions:
        ctl = ", ".join(f"[{md(cid)}](#{cid.lower()}) {md(st)}" for cid, st in p.controls)
        out.append(f"| {md(p.label)} | {md(p.requirement)} | {_status(p.status)} | {ctl} |")
    if r.unassessed:
        out += ["", "Provisions this report does not assess:", "",
                "| provision | what it requires | why not |", "|---|---|---|"]
        out += [f"| {md(u.label)} | {md(u.requirement)} | {md(u.why)} |" for u in r.unassessed]

    out += ["", "## Controls", "", "| control | title | status | why |", "|---|---|---|---|"]
    out += [f"| [{md(c.id)}](#{c.id.lower()}) | {md(c.title)} | {_status(c.status)} | "
            f"{md(c.why)} |" for c in r.controls]
    for c in r.controls:
        out += ["", f"### {md(c.id)}", "", f"**{md(c.title)}**: {_status(c.status)}. {md(c.why)}",
                "", f"- GDPR: {md(', '.join('Art. ' + a for a in c.articles) or _POLICY)}",
                f"- On Safespring: {md(c.safespring)}",
                f"- Checks: {', '.join(code(x) for x in c.checks) or 'none (assessed by hand)'}"]
        if c.fails_with:
            out.append(f"- Also failed by: {', '.join(code(x) for x in c.fails_with)} (a failure "
                       "counts against this control; a pass is no evidence for it)")
        if c.safespring_citation:
            out.append(f"- Safespring's GDPR page cites: {md(c.safespring_citation)}")
        out += [f"- This deployment: {md(n)}" for n in c.notes]
        if c.gaps:
            out.append(f"- Not covered by the checks: {md(c.gaps)}")
        out += _evidence_lines(c)

    out += ["", "## Checks outside the catalogue", "",
            "Checks no control of the catalogue claims (Checkov's built-in checks, pack checks "
            "not in the catalogue yet); they evidence no control above, but a failure still "
            "fails the report.", ""]
    if r.other_findings:
        for e in r.other_findings:
            if e.status == "failed":
                out.append(f"- **FAIL** {code(e.check_id)} {md(e.check_name)}: "
                           f"{code(e.resource)} ({_where(e)})")
                out += [f"  - {md(d)}" for d in e.details]
            elif e.status == "open":
                out.append(f"- OPEN {code(e.check_id)} {md(e.check_name)}: "
                           f"{code(e.resource)} ({_where(e)})")
                out += [f"  - {md(d)}" for d in e.details]
            else:
                out.append(f"- SKIP {code(e.check_id)} {code(e.resource)} ({_where(e)}): "
                           f"{md(e.reason or '')}")
    if r.other_passed:
        out += ["", "Passed: " + ", ".join(f"{code(k)} ({n})" for k, n in r.other_passed) + "."]

    out += ["", "## Blueprint and spec", ""]
    b = r.blueprint
    if b.manifest:
        out.append(f"- Generated by safespring-blueprints {md(b.generator_version or '?')} from "
                   f"{code(b.spec_file or '?')} (sha256 {code(b.spec_sha256 or '?')}).")
    else:
        out.append("- No manifest: this directory was not written by safespring-blueprints.")
    if b.spec_matches is False:
        out.append("- **The spec changed after the blueprint was generated.**")
    if b.changed_files:
        out.append("- Edited since generation: " + ", ".join(code(f) for f in b.changed_files))
    if b.missing_files:
        out.append("- Missing since generation: " + ", ".join(code(f) for f in b.missing_files))
    out.append(f"- Spec: {md(r.spec_status)}")
    for i in r.spec_issues:
        where = f"line {i.line}: " if i.line else ""
        art = f" ({md(i.article)})" if i.article else ""
        out.append(f"  - {md(where)}{code(i.path)}: {md(i.message)}{art}")

    if r.deployed is not None:
        out += ["", "## What runs", "", md(r.deployed.note, start=True)]
        if r.deployed.groups:
            out += ["", "| group | instances | waiting for reprovisioning | what differs |",
                    "|---|---|---|---|"]
            for g in r.deployed.groups:
                waiting = g.waiting + g.unknown
                what = ("; ".join(g.differences) if g.differences else
                        "not recorded when created" if g.unknown else "nothing")
                out.append(f"| {md(g.name)} | {g.instances} | {waiting} | {md(what)} |")

    if r.life is not None:
        out += _life_lines(r)

    d = r.deployment
    if d is not None:
        out += ["", "## Deployment", "", "The diagram is in the HTML report.", "",
                "| group | count | flavor | storage | volumes | open to |",
                "|---|---|---|---|---|---|"]
        for g in d.groups:
            vols = ", ".join(f"{v.name} {v.size_gb} GB "
                             f"{'LUKS2+Tang' if v.encrypted else 'NOT encrypted'}"
                             for v in g.volumes) or "none"
            opened = [f"443 {h}" for h in g.endpoints] + [f"22 from {c}" for c in g.ssh_from]
            opened += [f"{p} {port} from {s}" for s, p, port in g.inbound]
            out.append(f"| {md(g.name)} | {g.count} | {md(g.flavor)} | {md(g.storage)} | "
                       f"{md(vols)} | {md(', '.join(opened) or 'nothing')} |")
        out += ["", "| bucket | site | role | personal data | its data ends |",
                "|---|---|---|---|---|"]
        for bk in d.buckets:
            out.append(f"| {md(bk.name)} | {md(bk.site)} | {md(bk.role)} | "
                       f"{'yes' if bk.personal else 'no'} | {md(bk.expiry)} |")

    if r.annex:
        out += ["", "## Annex: technical measures (GDPR Art. 30(1)(g))", "",
                "Written from this deployment's spec and blueprint, for the record of "
                "processing activities.", ""]
        for section in r.annex:
            out += [f"### {md(section.title)}", ""]
            for para in section.paragraphs:
                out += [md(para, start=True), ""]
    return "\n".join(out).rstrip("\n") + "\n"
