"""The pack's precision and recall on the corpus: `python benchmarks/corpus.py [--hcl-only]`.

tests/corpus/ holds small roots written for this project, each reproducing a pattern found in
public OpenStack Terraform, and expect.yaml, a person's verdict on each finding. Every root is
scanned in HCL mode and, where Terraform can plan it offline (with whatever offline toolchain
this checkout has), in plan mode. Printed, per mode:

- precision: failed findings a person agrees with / all failed findings of the pack;
- recall: expected failures the pack gives / all expected failures; and, on the same resources,
  the share of those problems Checkov's built-in OpenStack checks (CKV_OPENSTACK_*) flag;
- unknown findings, and how many of them nobody expected (in plan mode: "unresolved");
- the plannable share: roots Terraform planned offline, with why the others were not.

tests/corpus/test_corpus.py holds the pack to the same expectations.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT / "tests" / "corpus"
EPOCH = "1795780800"  # 2026-11-27, the tests' day
BUILTIN = "CKV_OPENSTACK_"


def expectations() -> dict[str, Any]:
    """tests/corpus/expect.yaml's roots."""
    return yaml.safe_load((CORPUS / "expect.yaml").read_text("utf-8"))["roots"]


def expected(root: dict[str, Any], check_id: str, resource: str, mode: str) -> str | None:
    """What a person gives (check_id, resource) in `mode`; None when nothing is written."""
    by_check = (root.get("expect") or {}).get(check_id) or {}
    value = by_check.get(resource, by_check.get("*"))
    if isinstance(value, dict):
        value = value.get(mode)
    return value


@dataclass
class Tally:
    """What one mode's scans of the corpus gave, against the expectations."""

    mode: str
    roots: int = 0
    true_fail: int = 0
    false_fail: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    unknown: int = 0
    unexpected_unknown: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)  # any other disagreement (pass/none/unknown)
    problems: int = 0  # resources with an expected failure
    problems_builtin: int = 0  # ... that a built-in OpenStack check flags too

    @property
    def precision(self) -> float:
        total = self.true_fail + len(self.false_fail)
        return self.true_fail / total if total else 1.0

    @property
    def recall(self) -> float:
        total = self.true_fail + len(self.missed)
        return self.true_fail / total if total else 1.0

    @property
    def builtin_recall(self) -> float:
        return self.problems_builtin / self.problems if self.problems else 1.0

    @property
    def disagreements(self) -> list[str]:
        return [*self.false_fail, *self.missed, *self.unexpected_unknown, *self.wrong]


def tally(name: str, root: dict[str, Any], findings: list[Any], mode: str, into: Tally) -> None:
    """Compare one scan of one root with its expectations."""
    into.roots += 1
    seen: dict[tuple[str, str], str] = {}
    builtin_flagged = {f.resource for f in findings
                       if f.check_id.startswith(BUILTIN) and f.status == "failed"}
    for f in findings:
        if not f.custom:
            continue
        seen[(f.check_id, f.resource)] = f.status
        want = expected(root, f.check_id, f.resource, mode)
        where = f"{name}: {f.check_id} {f.resource}"
        if f.status == "failed":
            if want == "failed":
                into.true_fail += 1
            else:
                into.false_fail.append(f"{where} failed, expected {want or 'not failed'}: "
                                       + "; ".join(f.details))
        elif f.status == "unknown":
            into.unknown += 1
            if want != "unknown":
                into.unexpected_unknown.append(f"{where} unknown, expected {want or 'passed'}: "
                                               + "; ".join(f.details))
        elif want in ("failed", "unknown", "none") and f.status != "skipped":
            bucket = into.missed if want == "failed" else into.wrong
            bucket.append(f"{where} {f.status}, expected {want}")
    problems = set()
    for check_id, by_resource in (root.get("expect") or {}).items():
        for resource, value in by_resource.items():
            want = value.get(mode) if isinstance(value, dict) else value
            if resource == "*":
                continue
            if want == "failed":
                problems.add(resource)
                if (check_id, resource) not in seen:
                    into.missed.append(f"{name}: {check_id} {resource} no finding, expected failed")
            elif want in ("passed", "unknown") and (check_id, resource) not in seen:
                into.wrong.append(f"{name}: {check_id} {resource} no finding, expected {want}")
    problems |= {r for (c, r), s in seen.items() if s == "failed" and expected(root, c, r, mode) == "failed"}
    into.problems += len(problems)
    into.problems_builtin += len(problems & builtin_flagged)


def plannable(root: dict[str, Any]) -> bool:
    return root.get("plannable") is True


def run(hcl_only: bool = False) -> tuple[list[Tally], dict[str, str]]:
    """Scan the corpus; the tallies per mode and, per root, whether it was planned (or why not)."""
    os.environ.setdefault("SOURCE_DATE_EPOCH", EPOCH)
    sys.path.insert(0, str(ROOT))
    from generator import api
    from generator.scan import scan

    roots = expectations()
    hcl, plan = Tally("hcl"), Tally("plan")
    planned: dict[str, str] = {}
    for name in sorted(roots):
        root, directory = roots[name], CORPUS / name
        tally(name, root, list(scan(directory).findings), "hcl", hcl)
        if hcl_only:
            continue
        checks, data = api.plan_data(directory, offline=True, variables=root.get("variables") or {})
        if not checks.ok:
            step = next(s for s in checks.steps if not s.ok)
            errors = re.findall(r"Error: ([^\n]*)", step.output) or [step.output.strip()[-200:]]
            planned[name] = f"not planned: {step.name}: {errors[0]}"
            if plannable(root):
                plan.wrong.append(f"{name}: expected to plan offline, {planned[name]}")
            continue
        planned[name] = "planned"
        tally(name, root, list(api.scan_plan_data(data, directory).findings), "plan", plan)
    return [hcl, plan], planned


def table(tallies: list[Tally], planned: dict[str, str], roots: int) -> str:
    """The benchmark's table (Markdown), then the disagreements and the roots not planned."""
    lines = ["| mode | roots | precision | recall | built-in OpenStack checks' recall | unknown "
             "(unexpected) |", "|---|---|---|---|---|---|"]
    for t in tallies:
        if not t.roots:
            continue
        lines.append(f"| {t.mode} | {t.roots} | {t.precision:.0%} ({t.true_fail}/"
                     f"{t.true_fail + len(t.false_fail)}) | {t.recall:.0%} ({t.true_fail}/"
                     f"{t.true_fail + len(t.missed)}) | {t.builtin_recall:.0%} ({t.problems_builtin}/"
                     f"{t.problems}) | {t.unknown} ({len(t.unexpected_unknown)}) |")
    done = sum(1 for v in planned.values() if v == "planned")
    if planned:
        lines += ["", f"plannable offline: {done}/{roots} roots"]
        lines += [f"- {name}: {why}" for name, why in sorted(planned.items()) if why != "planned"]
    for t in tallies:
        if t.disagreements:
            lines += ["", f"{t.mode} disagreements:"] + [f"- {d}" for d in t.disagreements]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hcl-only", action="store_true", help="skip plan mode (no Terraform)")
    args = parser.parse_args(argv)
    tallies, planned = run(hcl_only=args.hcl_only)
    sys.stdout.write(table(tallies, planned, len(expectations())))
    return 0 if not any(t.disagreements for t in tallies) else 1


if __name__ == "__main__":
    raise SystemExit(main())
