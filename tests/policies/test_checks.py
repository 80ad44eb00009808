"""Each custom check against its pass/fail fixture, plus the pack's own conventions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.controls import check_ids, controls_for_check
from generator.policies import DIRECTORY, pack_checks
from generator.scan import ScanResult

from .conftest import FIXTURES

CHECK_IDS = sorted(check_ids(), key=lambda c: int(c.rsplit("_", 1)[1]))
# Checks with one result per root module: their fixtures are one directory per case
# (tests/policies/test_root_checks.py).
PER_ROOT = {"CKV_GDPR_16"}


def _names(result: ScanResult, check_id: str, status: str) -> set[str]:
    """Resource names (type and index stripped) the check gave `status` in its own fixture."""
    fixture = f"{check_id.lower()}/main.tf"
    return {f.resource.split(".", 1)[-1] for f in result.findings
            if f.check_id == check_id and f.file == fixture and f.status == status}


def _expected(check_id: str, prefix: str) -> set[str]:
    """Resource/provider names in the fixture starting with `pass` or `fail`."""
    text = (FIXTURES / check_id.lower() / "main.tf").read_text("utf-8")
    names = set(re.findall(r'^resource "[a-z0-9_]+" "([a-z0-9_]+)"', text, re.M))
    names |= set(re.findall(r'^\s*alias\s*=\s*"([a-z0-9_]+)"', text, re.M))
    names |= set(re.findall(r'^module "([a-z0-9_]+)"', text, re.M))
    counted = {n for n in names if re.search(rf'"{n}" {{\n\s*count\s*=\s*2', text)}
    out: set[str] = set()
    for n in names:
        if not n.startswith(prefix):
            continue
        out |= {f"{n}[0]", f"{n}[1]"} if n in counted else {n}
    return out


def test_every_catalogue_check_ran_on_the_fixtures(fixture_scan: ScanResult) -> None:
    # Checkov skips a broken check silently (import error, exception): it would just be absent.
    ran = {f.check_id for f in fixture_scan.findings}
    assert set(CHECK_IDS) <= ran


@pytest.mark.parametrize("check_id", sorted(set(CHECK_IDS) - PER_ROOT, key=CHECK_IDS.index))
def test_pass_and_fail_fixtures(fixture_scan: ScanResult, check_id: str) -> None:
    passed, failed = _expected(check_id, "pass"), _expected(check_id, "fail")
    assert "pass" in passed or "pass[0]" in passed
    assert "fail" in failed or "fail[0]" in failed
    assert _names(fixture_scan, check_id, "passed") == passed
    assert _names(fixture_scan, check_id, "failed") == failed


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_conventions(check_id: str) -> None:
    check = pack_checks()[check_id]
    assert check.name.startswith("Ensure "), check.name
    assert check.severity is not None
    assert check.guideline == controls_for_check(check_id)[0].url


def test_one_check_per_file_with_unique_names() -> None:
    files = sorted(p for p in Path(DIRECTORY).glob("*.py")
                   if p.name != "__init__.py" and not p.name.startswith("evidence"))
    assert len(files) == len(pack_checks())
    for path in files:
        text = path.read_text("utf-8")
        assert text.count("\ncheck = ") == 1, path.name
        assert len(re.findall(r"^class ", text, re.M)) == 1, path.name
