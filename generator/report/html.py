"""The report as one self-contained HTML page: inline CSS, inline SVG, no script, no fetches.

A DPO opens it from disk or prints it; nothing is loaded from anywhere. Every value is
escaped with `html.escape` (quotes included), so a hostile spec cannot inject markup.
"""

from __future__ import annotations

from html import escape

from generator.report.diagram import svg
from generator.report.model import (
    FAIL,
    INCOMPLETE,
    NOT_APPLICABLE,
    NOT_EVIDENCED,
    PASS,
    ControlResult,
    Evidence,
    Report,
    Weakened,
)

CSS = """
:root { --ink: #1f2937; --muted: #4b5563; --line: #d1d5db; --pass: #166534; --pass-bg: #dcfce7;
  --fail: #991b1b; --fail-bg: #fee2e2; --ne: #92400e; --ne-bg: #fef3c7; --na: #374151;
  --na-bg: #e5e7eb; --accent: #1e3a8a; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; color: var(--ink); background: #f3f4f6;
  font: 15px/1.55 'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 32px 40px 64px; background: #fff; }
h1 { font-size: 28px; line-height: 1.2; margin: 0 0 6px; color: #111827; }
h2 { font-size: 21px; margin: 40px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--accent);
  color: var(--accent); }
h3 { font-size: 17px; margin: 0; }
p { margin: 8px 0; }
.meta { color: var(--muted); margin: 0 0 20px; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px;
  font-weight: 700; letter-spacing: .03em; white-space: nowrap; vertical-align: 1px; }
.s-pass { color: var(--pass); background: var(--pass-bg); }
.s-fail { color: var(--fail); background: var(--fail-bg); }
.s-ne { color: var(--ne); background: var(--ne-bg); }
.s-na { color: var(--na); background: var(--na-bg); }
.banner { border-radius: 8px; padding: 14px 18px; margin: 14px 0; border-left: 8px solid; }
.banner h2 { border: 0; margin: 0 0 6px; padding: 0; font-size: 20px; color: inherit; }
.banner ul { margin: 6px 0 0; padding-left: 20px; }
.b-fail { background: var(--fail-bg); border-color: #b91c1c; color: #7f1d1d; }
.b-ok { background: var(--pass-bg); border-color: #15803d; color: #14532d; }
.b-ne { background: var(--ne-bg); border-color: #d97706; color: #78350f; }
.overdue { background: #b91c1c; color: #fff; font-size: 18px; font-weight: 700; border-radius: 8px;
  padding: 14px 18px; margin: 14px 0; }
.review { color: var(--muted); }
.noreview { background: var(--ne-bg); color: #78350f; font-weight: 700; border-radius: 8px;
  padding: 10px 16px; }
table { border-collapse: collapse; width: 100%; margin: 10px 0; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 7px 9px; border-bottom: 1px solid var(--line); }
th { background: #f9fafb; font-weight: 700; border-bottom: 2px solid var(--line); }
td.nowrap, th.nowrap { white-space: nowrap; }
code { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 12.5px;
  background: #f3f4f6; padding: 0 3px; border-radius: 3px; overflow-wrap: anywhere; }
.control { border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; margin: 16px 0;
  break-inside: avoid-page; }
.control.c-fail { border-left: 6px solid #b91c1c; }
.control.c-pass { border-left: 6px solid #15803d; }
.control.c-ne { border-left: 6px solid #d97706; }
.control.c-na { border-left: 6px solid #9ca3af; }
.control header { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; }
.control .id { font-family: 'DejaVu Sans Mono', monospace; font-weight: 700; color: var(--accent); }
.control dl { display: grid; grid-template-columns: 170px 1fr; gap: 4px 14px; margin: 10px 0; }
.control dt { color: var(--muted); font-weight: 700; font-size: 13.5px; }
.control dd { margin: 0; }
.why { font-weight: 600; }
.finding { margin: 6px 0; padding: 8px 12px; border-radius: 6px; }
.finding.failed { background: var(--fail-bg); }
.finding.skipped { background: #f9fafb; border: 1px dashed var(--line); }
.finding ul { margin: 4px 0 0; padding-left: 20px; }
.passed { font-size: 13px; margin: 6px 0; }
.passed code { font-size: 11.5px; background: transparent; padding: 0; }
.passed .res { color: var(--muted); }
.gap { color: #78350f; }
.evidence h4 { margin: 12px 0 4px; font-size: 14px; }
.evidence .owner { margin: 8px 0 2px; }
.evidence ul { margin: 2px 0 6px; padding-left: 20px; }
.evidence li.finding { list-style: none; margin-left: -20px; }
.evidence details { font-size: 12.5px; color: var(--muted); }
figure { margin: 12px 0; overflow-x: auto; border: 1px solid var(--line); border-radius: 10px;
  padding: 10px; background: #fff; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
.annex { background: #fafaf9; border: 1px solid var(--line); border-radius: 10px; padding: 8px 24px 16px; }
.annex h3 { margin-top: 16px; }
.annex p { max-width: 75ch; }
nav ol { columns: 2; margin: 8px 0; }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; }
@media print {
  body { background: #fff; font-size: 11pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-after: avoid-page; }
  figure, .annex section, tr { break-inside: avoid-page; }
  a { color: inherit; text-decoration: none; }
}
@page { margin: 16mm 14mm; }
"""

_POLICY = "none: a policy of this project, not a requirement of the Regulation"
_CLASS = {PASS: "pass", FAIL: "fail", NOT_EVIDENCED: "ne", NOT_APPLICABLE: "na"}


def e(value: object) -> str:
    """Escape a value for HTML text and attributes."""
    return escape(str(value), quote=True)


def _badge(status: str) -> str:
    return f'<span class="badge s-{_CLASS.get(status, "ne")}">{e(status)}</span>'


def _where(ev: Evidence) -> str:
    loc = f"{ev.file}:{ev.line}" if ev.line else ev.file
    return f" <code>{e(loc)}</code>" if loc else ""


def _finding(ev: Evidence) -> str:
    if ev.status == "failed":
        details = "".join(f"<li>{e(d)}</li>" for d in ev.details)
        src = " (from the spec)" if ev.source == "spec" else ""
        return (f'<div class="finding failed">{_badge(FAIL)} <code>{e(ev.check_id)}</code> '
                f"{e(ev.check_name)}{e(src)} on <code>{e(ev.resource)}</code>{_where(ev)}"
                + (f"<ul>{details}</ul>" if details else "") + "</div>")
    if ev.status == "open":
        details = "".join(f"<li>{e(d)}</li>" for d in ev.details)
        return (f'<div class="finding skipped">{_badge(NOT_EVIDENCED)} '
                f"<code>{e(ev.check_id)}</code> {e(ev.check_name)} on <code>{e(ev.resource)}</code>"
                f"{_where(ev)}" + (f"<ul>{details}</ul>" if details else "") + "</div>")
    return (f'<div class="finding skipped"><span class="badge s-na">SKIPPED</span> '
            f"<code>{e(ev.check_id)}</code> on <code>{e(ev.resource)}</code>{_where(ev)}"
            f"<br>Reason written in the blueprint: {e(ev.reason or '')}</div>")


def _control(c: ControlResult) -> str:
    cls = _CLASS.get(c.status, "ne")
    parts = [f'<article class="control c-{cls}" id="{e(c.id.lower())}">',
             f'<header><span class="id">{e(c.id)}</span> {_badge(c.status)}'
             f"<h3>{e(c.title)}</h3></header>",
             f'<p class="why">{e(c.why)}</p><dl>',
             f"<dt>GDPR</dt><dd>{e(', '.join('Art. ' + a for a in c.articles) or _POLICY)}</dd>",
             f"<dt>On Safespring</dt><dd>{e(c.safespring)}</dd>",
             "<dt>Checks</dt><dd>" + (", ".join(f"<code>{e(x)}</code>" for x in c.checks)
                                      or "none: assessed by hand") + "</dd>"]
    if c.fails_with:
        parts.append("<dt>Also failed by</dt><dd>" + ", ".join(
            f"<code>{e(x)}</code>" for x in c.fails_with) + " (a failure counts against this "
            "control; a pass is no evidence for it)</dd>")
    if c.notes:
        parts.append("<dt>This deployment</dt><dd>" + "<br>".join(e(n) for n in c.notes) + "</dd>")
    if c.gaps:
        parts.append(f'<dt>Not covered</dt><dd class="gap">{e(c.gaps)}</dd>')
    if c.safespring_citation:
        parts.append(f"<dt>Safespring's GDPR page cites</dt><dd>{e(c.safespring_citation)}</dd>")
    parts.append("</dl>")
    parts += _evidence_groups(c)
    parts.append("</article>")
    return "\n".join(parts)


_GROUP_BADGE = {"failed": FAIL, "open": NOT_EVIDENCED, "passed": PASS}


def _evidence_groups(c: ControlResult) -> list[str]:
    """The evidence by what it is about and by check, what the checks found, the Terraform
    addresses folded (a DPO opens them only to follow up)."""
    if not c.by_owner:
        return []
    parts = ['<div class="evidence"><h4>Evidence, by what it is about</h4>']
    owner = None
    for g in c.by_owner:
        if g.owner != owner:
            if owner is not None:
                parts.append("</ul>")
            owner = g.owner
            parts.append(f"<p class=\"owner\"><strong>{e(owner)}</strong></p><ul>")
        badge = (_badge(_GROUP_BADGE[g.status]) if g.status in _GROUP_BADGE
                 else '<span class="badge s-na">SKIPPED</span>')
        said = "".join(f"<li>{e(d)}</li>" for d in (*g.details, *g.reasons))
        count = f" ({len(g.resources)} resources)" if len(g.resources) > 1 else ""
        folded = ("" if g.check_id == "SPEC" else
                  "<details><summary>Terraform addresses</summary>"
                  + ", ".join(f"<code>{e(r)}</code>" for r in g.resources)
                  + (" (" + ", ".join(f"<code>{e(p)}</code>" for p in g.places) + ")"
                     if g.places else "") + "</details>")
        parts.append(f'<li class="finding {e(g.status)}">{badge} <code>{e(g.check_id)}</code> '
                     f"{e(g.check_name)}{count}" + (f"<ul>{said}</ul>" if said else "")
                     + folded + "</li>")
    parts.append("</ul></div>")
    return parts


def _off_item(m: Weakened) -> str:
    return (f"<li><code>{e(m.key)}</code> "
            f"({f'line {m.line}' if m.line else 'not in the spec'}), "
            f'<a href="#{e(m.control.lower())}">{e(m.control)}</a>: '
            f"{e(m.message)} ({e(m.article)})</li>")


def _verdict(r: Report) -> str:
    cls = "b-fail" if r.verdict == FAIL else "b-ne" if r.verdict == INCOMPLETE else "b-ok"
    items = "".join(f"<li>{e(w)}</li>" for w in r.verdict_why)
    return (f'<section class="banner {cls}" aria-label="verdict"><h2>Verdict: {e(r.verdict)}</h2>'
            f"<ul>{items}</ul></section>")


def to_html(report: Report) -> str:
    """The whole report as one HTML document."""
    r = report
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>GDPR compliance report: {e(r.name)}</title>",
           f"<style>{CSS}</style>", "</head>", "<body>", "<main>",
           f"<h1>GDPR compliance report: {e(r.name)}</h1>"]
    d = r.deployment
    meta = [f"blueprint <code>{e(r.blueprint.directory)}</code>", f"report of {e(r.today)}",
            f"safespring-blueprints {e(r.generator_version)}"]
    if d and d.controller:
        meta.insert(0, f"controller {e(d.controller)}" + (f" ({e(d.contact)})" if d.contact else ""))
    out.append(f'<p class="meta">{" · ".join(meta)}</p>')
    if d and d.description:
        out.append(f"<p>{e(d.description)}</p>")
    out.append(_verdict(r))
    if r.review.overdue:
        out.append(f'<p class="overdue" role="alert">{e(r.review.message)}</p>')
    elif r.review.review_by is None:
        out.append(f'<p class="noreview">{e(r.review.message)}</p>')
    else:
        out.append(f'<p class="review">{e(r.review.message)}</p>')

    off = [m for m in r.weakened if m.level == "off"]
    lowered = [m for m in r.weakened if m.level == "lowered"]
    if off:
        personal = d is not None and d.personal
        out.append(f'<section class="banner {"b-fail" if personal else "b-ne"}" '
                   'aria-label="measures off in the spec">'
                   "<h2>Measures off in the spec</h2><p>"
                   + ("The spec declares personal data and leaves out these measures: each one "
                      "fails its control." if personal else
                      "The spec declares no personal data and leaves out these measures: their "
                      "controls are NOT APPLICABLE here, never PASS.") + "</p><ul>"
                   + "".join(_off_item(m) for m in off) + "</ul></section>")
    if lowered:
        out.append('<section class="banner b-ne" aria-label="measures lowered in the spec">'
                   "<h2>Measures lowered in the spec</h2><p>The spec keeps these measures but "
                   "weaker than this generator's default for its data: their controls are NOT "
                   "EVIDENCED until a person judges the choice.</p><ul>"
                   + "".join(_off_item(m) for m in lowered) + "</ul></section>")
    out.append('<nav><strong>Contents</strong><ol><li><a href="#provisions">GDPR provisions</a>'
               '</li><li><a href="#deployment">Deployment</a></li><li><a href="#controls">Controls'
               '</a></li><li><a href="#other">Checks outside the catalogue</a></li>'
               '<li><a href="#annex">Annex: technical measures</a></li>'
               '<li><a href="#running">What runs</a></li>'
               '<li><a href="#blueprint">Blueprint and spec</a></li></ol></nav>')

    counts = ", ".join(f"{n} {s}" for s, n in r.summary.controls if n)
    out += ['<h2 id="provisions">GDPR provisions</h2>',
            f"<p>Controls: {e(counts)}. Scan findings: {r.summary.findings_failed} failed, "
            + (f"{r.summary.findings_unknown} unknown, " if r.summary.findings_unknown else "")
            + f"{r.summary.findings_passed} passed, {r.summary.findings_skipped} skipped. A provision "
            "takes the worst status of the controls that serve it.</p>",
            "<table><thead><tr><th class=\"nowrap\">Provision</th><th>What it requires</th>"
            "<th>Status</th><th>Controls</th></tr></thead><tbody>"]
    for p in r.provisions:
        ctl = "<br>".join(f'<a href="#{e(cid.lower())}">{e(cid)}</a> {_badge(st)}'
                          for cid, st in p.controls)
        out.append(f'<tr><td class="nowrap"><strong>{e(p.label)}</strong></td>'
                   f"<td>{e(p.requirement)}</td><td>{_badge(p.status)}</td>"
                   f'<td class="nowrap">{ctl}</td></tr>')
    out.append("</tbody></table>")
    if r.unassessed:
        out += ["<h3>Provisions this report does not assess</h3>",
                "<table><thead><tr><th class=\"nowrap\">Provision</th><th>What it requires</th>"
                "<th>Why not</th></tr></thead><tbody>"]
        out += [f'<tr><td class="nowrap">{e(u.label)}</td><td>{e(u.requirement)}</td>'
                f"<td>{e(u.why)}</td></tr>" for u in r.unassessed]
        out.append("</tbody></table>")
    out += ["<h3>What the statuses mean</h3><table><tbody>"]
    out += [f"<tr><td class=\"nowrap\">{_badge(s)}</td><td>{e(m)}</td></tr>"
            for s, m in r.status_meaning]
    out.append("</tbody></table>")

    out.append('<h2 id="deployment">Deployment</h2>')
    if d is not None:
        out.append(f'<figure>{svg(d)}<figcaption>Drawn from the spec: instance groups with their '
                   "counts, data volumes (encrypted inside the instance or not), buckets, what is "
                   "open to the world, SSH sources, log shipping and the backup flow.</figcaption>"
                   "</figure>")
    else:
        out.append("<p><strong>No diagram:</strong> the spec of this blueprint was not found or "
                   "could not be read, and the report does not guess the deployment from the "
                   "Terraform files.</p>")

    out.append('<h2 id="controls">Controls</h2>')
    out.append("<table><thead><tr><th>Control</th><th>Title</th><th>Status</th></tr></thead><tbody>")
    out += [f'<tr><td class="nowrap"><a href="#{e(c.id.lower())}">{e(c.id)}</a></td>'
            f"<td>{e(c.title)}</td><td>{_badge(c.status)}</td></tr>" for c in r.controls]
    out.append("</tbody></table>")
    out += [_control(c) for c in r.controls]

    out += ['<h2 id="other">Checks outside the catalogue</h2>',
            "<p>Checks no control of the catalogue claims (Checkov's built-in checks, pack checks "
            "not in the catalogue yet). They evidence no control above, but a failure still "
            "fails the report; every skip carries the reason written in the blueprint.</p>"]
    out += [_finding(ev) for ev in r.other_findings]
    if r.other_passed:
        out.append('<p class="passed">Passed: ' + ", ".join(
            f"<code>{e(k)}</code> ({n})" for k, n in r.other_passed) + "</p>")

    if r.annex:
        out += ['<h2 id="annex">Annex: technical measures (GDPR Art. 30(1)(g))</h2>',
                "<p>Written from this deployment's spec and blueprint, to go into the record of "
                "processing activities as the general description of the technical measures.</p>",
                '<div class="annex">']
        for section in r.annex:
            out.append(f"<section><h3>{e(section.title)}</h3>"
                       + "".join(f"<p>{e(p)}</p>" for p in section.paragraphs) + "</section>")
        out.append("</div>")
    else:
        out += ['<h2 id="annex">Annex: technical measures</h2>',
                "<p>Not written: the spec was not found or could not be read.</p>"]

    if r.life is not None:
        lf = r.life
        out += ['<h2 id="life">Last verified in life</h2>',
                f"<p>From <code>{e(lf.source)}</code>, exported {e(lf.exported_at)} by the log "
                f"collector <code>{e(lf.collector)}</code>: each instance's latest self-check of "
                "each measure it claims. Ages are counted to the export, not to this report."
                "</p>"]
        if lf.rows:
            out.append("<table><thead><tr><th>Instance</th><th>Measure</th><th>Status</th>"
                       "<th>Control</th><th>Checked</th><th>Last success</th><th>Why</th>"
                       "</tr></thead><tbody>")
            for x in lf.rows:
                out.append(f"<tr><td>{e(x.instance)}</td><td>{e(x.measure)}</td>"
                           f"<td>{_badge(x.status)}</td><td>{e(x.control)}</td>"
                           f"<td>{e(x.checked_at or 'never')}</td>"
                           f"<td>{e(x.last_ok or 'never')}</td><td>{e(x.why)}</td></tr>")
            out.append("</tbody></table>")
        if lf.never_reported:
            out.append("<p>Never reported a self-check (NOT EVIDENCED): "
                       + ", ".join(f"<code>{e(n)}</code>" for n in lf.never_reported) + ".</p>")
        if lf.not_in_blueprint:
            out.append("<p>In the file but not instances of this blueprint (not counted): "
                       + ", ".join(f"<code>{e(n)}</code>" for n in lf.not_in_blueprint)
                       + ".</p>")

    if r.deployed is not None:
        out += ['<h2 id="running">What runs</h2>', f"<p>{e(r.deployed.note)}</p>"]
        if r.deployed.groups:
            out.append("<table><thead><tr><th>Group</th><th>Instances</th><th>Waiting for "
                       "reprovisioning</th><th>What differs</th></tr></thead><tbody>")
            for g in r.deployed.groups:
                what = ("; ".join(g.differences) if g.differences else
                        "not recorded when created" if g.unknown else "nothing")
                out.append(f"<tr><td>{e(g.name)}</td><td>{g.instances}</td>"
                           f"<td>{g.waiting + g.unknown}</td><td>{e(what)}</td></tr>")
            out.append("</tbody></table>")

    b = r.blueprint
    out.append('<h2 id="blueprint">Blueprint and spec</h2><ul>')
    if b.manifest:
        out.append(f"<li>Generated by safespring-blueprints {e(b.generator_version or '?')} from "
                   f"<code>{e(b.spec_file or '?')}</code> (sha256 <code>{e(b.spec_sha256 or '?')}"
                   "</code>).</li>")
    else:
        out.append("<li>No manifest: this directory was not written by safespring-blueprints."
                   "</li>")
    if b.spec_matches is False:
        out.append("<li><strong>The spec changed after the blueprint was generated.</strong></li>")
    if b.changed_files:
        out.append("<li><strong>Edited since generation:</strong> "
                   + ", ".join(f"<code>{e(f)}</code>" for f in b.changed_files) + "</li>")
    if b.missing_files:
        out.append("<li><strong>Missing since generation:</strong> "
                   + ", ".join(f"<code>{e(f)}</code>" for f in b.missing_files) + "</li>")
    out.append(f"<li>Spec: {e(r.spec_status)}")
    if r.spec_issues:
        out.append("<ul>" + "".join(
            f"<li>{e(f'line {i.line}: ' if i.line else '')}<code>{e(i.path)}</code>: "
            f"{e(i.message)}{e(f' ({i.article})' if i.article else '')}</li>"
            for i in r.spec_issues) + "</ul>")
    out.append("</li></ul>")
    out.append(f"<footer>Report schema {r.schema}. The same blueprint, spec and date give the "
               "same report.</footer>")
    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"
