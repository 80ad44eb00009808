"""Every blueprint `generate` accepts passes the pack, in both modes, with the same verdicts.

A blueprint is generated from a spec, scanned as HCL (what the generated CI runs) and as
Terraform's offline plan (what `check` runs), and the compliance report is built from the plan
scan as `check` does. Each must find nothing: a generated blueprint that fails its own pack is a
false FAIL (or a generator bug), and a resource the two modes judge differently is wrong in one.

tests/policies/specs/ holds the specs this has gone wrong on, kept as fixtures: two written from
docs/spec.md as a new user would (a municipality's school platform whose security-group rule
map outgrew Checkov's render limit; a research VM with volumes and no buckets, whose plan
lists an `aws` provider configuration that nothing uses).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from generator import api
from generator.report import FAIL, INCOMPLETE, Report
from generator.report.build import SPEC_OFF
from generator.scan import ScanResult, scan

from ..conftest import TODAY
from .conftest import pinned_today

SPECS = Path(__file__).resolve().parent / "specs"
VARIABLES = {"key_pair": "offline-test"}
# Judged by a plan only (HCL mode skips them with a reason).
PLAN_ONLY = {"CKV_GDPR_23"}


def disagreements(hcl: ScanResult, plan: ScanResult) -> list[str]:
    """(check, resource) pairs the two modes judge differently. A resource the plan does not
    hold at all (bootstrap/, a root of its own that `check` does not plan) is not compared."""
    planned = {f.resource for f in plan.findings if f.custom}
    by_hcl = {(f.check_id, f.resource): f for f in hcl.findings
              if f.custom and f.check_id not in PLAN_ONLY and f.resource in planned
              and not f.file.startswith("bootstrap/")}
    by_plan = {(f.check_id, f.resource): f for f in plan.findings
               if f.custom and f.check_id not in PLAN_ONLY}
    out = []
    for key in sorted(set(by_hcl) | set(by_plan)):
        h, p = by_hcl.get(key), by_plan.get(key)
        if (h and h.status) != (p and p.status):
            out.append(f"{key[0]} {key[1]}: HCL {h.status if h else 'no finding'} "
                       f"({'; '.join(h.details) if h else ''}), plan {p.status if p else 'no finding'} "
                       f"({'; '.join(p.details) if p else ''})")
    return out


def failures(result: ScanResult) -> list[str]:
    return [f"{f.check_id} {f.resource} ({f.file}:{f.line}): {'; '.join(f.details)}"
            for f in result.findings if f.status in ("failed", "unknown")]


def judge(spec: Path, target: Path, planned: Callable[..., dict]) -> dict[str, list[str]]:
    """What is wrong with the blueprint of `spec`, by step ({} values when nothing is)."""
    api.generate(spec, target, on=TODAY)
    with pinned_today():
        hcl = scan(target)
        plan = api.scan_plan_data(planned(target, VARIABLES), target)
        report = api.build_report(target, spec_path=spec, on=TODAY, result=plan)
    return {"hcl": failures(hcl), "plan": failures(plan), "modes": disagreements(hcl, plan),
            "report": report_failures(report)}


def report_failures(report: Report) -> list[str]:
    """Why the report fails, leaving out a measure the spec itself turns off with personal data:
    that FAIL is the product's verdict on the spec (the weakening shows), not a false one."""
    if report.verdict == INCOMPLETE:
        return [f"verdict {report.verdict}"]
    return [f"{c.id} FAIL: {c.why}" for c in report.controls if c.status == FAIL and any(
        e.status == "failed" and e.check_name != SPEC_OFF for e in c.evidence)]


@pytest.mark.parametrize("spec", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.stem)
def test_saved_specs_pass_their_own_pack_in_both_modes(spec: Path, tmp_path: Path,
                                                       planned: Callable[..., dict]) -> None:
    found = judge(spec, tmp_path / spec.stem, planned)
    assert found == {"hcl": [], "plan": [], "modes": [], "report": []}
