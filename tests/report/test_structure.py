"""The report package's shape: imports run one way, and one date reaches every check."""

from __future__ import annotations

import ast
import datetime as dt
import os
from pathlib import Path

from generator.report import build
from tests.conftest import ROOT, TODAY_EPOCH
from tests.report.conftest import BLUEPRINTS

PACKAGE = ROOT / "generator" / "report"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m.rsplit(".", 1)[-1] for m in found if m.startswith("generator.report.")}


def test_report_modules_import_in_one_direction() -> None:
    """No circles: model <- facts/provisions <- status/notes/annex <- build <- writers."""
    graph = {p.stem: _imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert graph["model"] == set()
    assert "build" not in graph["annex"] and "build" not in graph["notes"]
    seen: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, f"import circle: {' -> '.join((*path, node))}"
        if node in seen:
            return
        for dep in graph.get(node, ()):
            visit(dep, (*path, node))
        seen.add(node)

    for module in graph:
        visit(module, ())


def test_the_report_date_reaches_the_scan() -> None:
    """`report --today` judges credential expiry against the given day, not against
    SOURCE_DATE_EPOCH or the clock: the example's application credential ends on 2027-09-30,
    so a report of 2027-10-01 fails it while the environment still says 2026-11-27."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = TODAY_EPOCH
    try:
        later = build(BLUEPRINTS / "patient-portal", today=dt.date(2027, 10, 1))
        now = build(BLUEPRINTS / "patient-portal", today=dt.date(2026, 11, 27))
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before
    acc = {r.today: next(c for c in r.controls if c.id == "GDPR-ACC-1") for r in (later, now)}
    expired = [e for e in acc["2027-10-01"].evidence
               if e.check_id == "CKV_GDPR_15" and e.status == "failed"]
    assert expired and "expired on 2027-09-30 (today is 2027-10-01)" in expired[0].details[0]
    assert not any(e.check_id == "CKV_GDPR_15" and e.status == "failed"
                   for e in acc["2026-11-27"].evidence)
