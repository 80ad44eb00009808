"""The scan imports only the built-in Checkov checks of the types it scans
(generator/checkov_load.py), and that changes no finding."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.checkov_load import ALL_ENV, index
from tests.conftest import ROOT, TODAY_EPOCH

HERE = Path(__file__).resolve().parent


def _python(code: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "SOURCE_DATE_EPOCH": TODAY_EPOCH, **(env or {})},
                          timeout=600)  # a hang guard only: each takes seconds
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_the_index_is_the_installed_checkovs() -> None:
    """scripts/checkov_builtin_index.py, run now, writes what the repository holds."""
    code = ("import json, sys; sys.path.insert(0, 'scripts'); import checkov_builtin_index as i; "
            "print(json.dumps(i.index(), sort_keys=True))")
    assert json.loads(_python(code)) == index()


SCANNED = [ROOT / "blueprints" / "patient-portal", ROOT / "blueprints" / "minimal",
           HERE / "fixtures", HERE / "styles"]


@pytest.mark.parametrize("tree", SCANNED, ids=lambda p: p.name)
def test_findings_are_those_of_every_check_imported(tree: Path) -> None:
    code = ("import json, sys; from generator import scan; "
            f"r = scan.scan({str(tree)!r}); "
            "print(json.dumps([[f.check_id, f.resource, f.status, f.file, f.line, list(f.details), "
            "f.skip_reason] for f in r.findings])); "
            "mods = [m for m in sys.modules if m.startswith('checkov.terraform.checks.resource.')]; "
            "print(len(mods))")
    slim_findings, slim_modules = _python(code, {ALL_ENV: ""}).splitlines()
    full_findings, full_modules = _python(code, {ALL_ENV: "1"}).splitlines()
    assert json.loads(slim_findings) == json.loads(full_findings)
    assert json.loads(slim_findings), "no findings: the comparison would prove nothing"
    assert int(slim_modules) < int(full_modules) / 4, (slim_modules, full_modules)


def test_a_plan_scan_loads_the_checks_of_its_types(tmp_path: Path) -> None:
    """Plan mode reads the types from the plan: findings equal those of a full import."""
    from generator import api

    root = tmp_path / "minimal"
    shutil.copytree(ROOT / "blueprints" / "minimal", root)
    checks, data = api.plan_data(root, offline=True, inputs={"key_pair": "offline-test"})
    assert checks.ok
    target = root / "plan.json"
    target.write_text(json.dumps(data))
    code = ("import json; from generator import scan; "
            f"r = scan.scan({str(target)!r}); "
            "print(json.dumps(sorted([f.check_id, f.resource, f.status] for f in r.findings)))")
    slim = json.loads(_python(code, {ALL_ENV: ""}))
    assert slim and slim == json.loads(_python(code, {ALL_ENV: "1"}))
