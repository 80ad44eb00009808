"""The status algorithm: evidence of one control -> its status, controls -> provisions, and the
verdict of the whole report.

A control is PASS only when at least one check passed on a resource, none failed, and nothing
open remains (the spec neither leaves its measure off nor lowers it, and no fact of the
deployment leaves a part of it to a person); FAIL as soon as one finding failed, including a
measure the spec leaves off for personal data (that finding names the spec line); NOT
APPLICABLE when its checks found no resource of the kind they examine, or the spec declares no
personal data and leaves the measure off; NOT EVIDENCED when something open remains, no check
exists for it, or every finding was skipped (a person must assess it). A GDPR provision takes
the worst status of the controls that serve it, so a provision served by an unevidenced control
is never shown as passing.
"""

from __future__ import annotations

from generator.controls import Control
from generator.report.facts import plural
from generator.report.model import (
    FAIL,
    NOT_APPLICABLE,
    NOT_EVIDENCED,
    PASS,
    ControlResult,
    Evidence,
    ProvisionResult,
    Weakened,
)
from generator.report.provisions import label, provisions

# Evidence order in every list: failures first, then what is open, skipped, passed.
_ORDER = {"failed": 0, "open": 1, "skipped": 2, "passed": 3}


def sort_evidence(items: list[Evidence]) -> tuple[Evidence, ...]:
    return tuple(sorted(set(items), key=lambda e: (_ORDER[e.status], e.source, e.check_id,
                                                   e.resource, e.file, e.line)))


def where_in_spec(m: Weakened) -> str:
    return f"{m.key} (line {m.line})" if m.line else f"{m.key} (not in the spec)"


def control_result(c: Control, evidence: list[Evidence], notes: tuple[str, ...],
                   personal: bool | None, weakened: list[Weakened],
                   inapplicable: str | None = None) -> ControlResult:
    """One control's status from its evidence and what the spec turns off for it;
    `inapplicable` says why the deployment's facts leave the control nothing to apply to."""
    ev = sort_evidence(evidence)
    passed = sum(e.status == "passed" for e in ev)
    failed = sum(e.status == "failed" for e in ev)
    skipped = sum(e.status == "skipped" for e in ev)
    open_items = [e for e in ev if e.status == "open"]
    off = [m for m in weakened if m.level == "off"]
    if failed:
        status = FAIL
        from_spec = [e for e in ev if e.status == "failed" and e.source == "spec"]
        parts = [f"{plural(failed - len(from_spec), 'check finding')} failed"] if (
            failed > len(from_spec)) else []
        by_name: dict[str, list[str]] = {}
        for e in from_spec:
            by_name.setdefault(e.check_name, []).append(
                f"{e.resource} (line {e.line})" if e.line else e.resource)
        parts += [f"{name}: {', '.join(where)}" for name, where in by_name.items()]
        why = "Failed: " + "; ".join(parts) + "."
    elif off and personal is False:
        status = NOT_APPLICABLE
        why = ("The spec declares no personal data and leaves this measure off: "
               + "; ".join(where_in_spec(m) for m in off) + ".")
    elif inapplicable is not None and not passed and not open_items:
        status = NOT_APPLICABLE
        why = inapplicable
    elif open_items:
        status = NOT_EVIDENCED
        why = "Not evidenced: " + " ".join(
            d for e in open_items for d in e.details) + (
            f" ({plural(passed, 'check result')} passed besides.)" if passed else "")
    elif passed:
        status = PASS
        resources = len({e.resource for e in ev if e.status == "passed"})
        why = (f"{plural(passed, 'check result')} passed on {plural(resources, 'resource')}, "
               "none failed" + (f"; {skipped} skipped with a reason." if skipped else "."))
    elif not c.checks:
        status = NOT_EVIDENCED
        why = "No machine check exists for this control: a person must assess it."
    elif skipped:
        status = NOT_EVIDENCED
        why = "Every finding was skipped with a written reason; nothing passed."
    elif personal is False:
        status = NOT_APPLICABLE
        why = (f"The checks ({', '.join(c.checks)}) found no resource they examine in this "
               "blueprint, and the spec declares no personal data.")
    else:
        # Personal data (or an unknown spec) without the resources the checks look for is a
        # question for a person, not a sign the control does not matter.
        status = NOT_EVIDENCED
        why = (f"The checks ({', '.join(c.checks)}) found no resource they examine in this "
               "blueprint; the deployment "
               + ("holds personal data" if personal else "may hold personal data (no spec)")
               + ", so a person must decide whether it needs such resources.")
    return ControlResult(
        id=c.id, title=c.title, safespring=c.safespring, articles=c.articles,
        safespring_citation=c.seed_citation, modules=c.modules, checks=c.checks,
        fails_with=c.fails_with, gaps=c.gaps,
        status=status, why=why, passed=passed, failed=failed, skipped=skipped, evidence=ev,
        notes=notes)


def provision(article: str, results: list[ControlResult]) -> ProvisionResult:
    """A provision takes the worst status of the controls that serve it."""
    statuses = [r.status for r in results]
    pairs = tuple((r.id, r.status) for r in results)
    if FAIL in statuses:
        status = FAIL
        why = "Failed: " + ", ".join(r.id for r in results if r.status == FAIL) + "."
    elif NOT_EVIDENCED in statuses:
        status = NOT_EVIDENCED
        ok = sum(s == PASS for s in statuses)
        why = (f"{ok} of {len(results)} controls evidenced; not evidenced: "
               + ", ".join(r.id for r in results if r.status == NOT_EVIDENCED) + ".")
    elif PASS in statuses:
        status = PASS
        why = "Every applicable control passed: " + ", ".join(
            r.id for r in results if r.status == PASS) + "."
    else:
        status = NOT_APPLICABLE
        why = "No control serving it applies to this blueprint."
    return ProvisionResult(article=article, label=label(article),
                           requirement=provisions().get(article, ""), status=status, why=why,
                           controls=pairs)
