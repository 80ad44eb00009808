"""The benchmark command works (`--quick` smoke run) and its synthetic specs are valid.

No timing is asserted: the numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from types import ModuleType

from generator.spec import check_text
from tests.conftest import ROOT, TODAY


def _specs_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_specs", ROOT / "benchmarks" / "specs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_specs_are_valid_and_sized() -> None:
    specs = _specs_module()
    for groups in (1, 2, 25):
        checked = check_text(specs.synthetic_spec(groups), f"bench-{groups}.yaml", TODAY)
        assert [g.name for g in checked.spec.instances] == [specs.group_name(i)
                                                            for i in range(1, groups + 1)]
        assert not checked.warnings
    assert len(specs.group_name(1000)) <= 16


def test_quick_benchmark_prints_the_table() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("benchmark "))
    rows = {line.split("  ")[0] for line in lines[header + 1:] if line.strip()}
    for expected in ("python start-up (floor)", "generate example, CLI (wall)",
                     "generate 10 groups, in-process", "generate 100 groups, in-process",
                     "validate --offline minimal (fmt+copy+init+validate)",
                     "scan minimal, in-process (after import)",
                     "scan minimal --plan --offline (copy+init+plan+show+scan)",
                     "scan minimal plan JSON, in-process (after import)"):
        assert expected in rows, proc.stdout
    assert "--quick: smoke run" in proc.stdout


def test_scan_breakdown_times_every_phase_of_a_real_scan() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scan_breakdown.py"),
                           str(ROOT / "blueprints" / "minimal"), "--runs", "1"],
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {line[:40].strip(): line[40:].split() for line in proc.stdout.splitlines()}
    for phase in ("start", "built-in checks", "runner", "parse", "graph", "checks", "rest"):
        # Every phase was reached (a wrapped method that never ran would leave it out).
        assert float(rows[f"scan: {phase}"][0]) > 0, proc.stdout
    assert "checkov -d: import checkov.main" in rows
    # The findings of the real scan, not of an empty directory.
    assert int(rows["HCL scan, sum of phases"][1]) > 50, proc.stdout
