"""Each custom check against its pass/fail fixture, plus the pack's own conventions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.controls import check_ids, controls_for_check
from generator.policies import DIRECTORY, pack_checks

from .conftest import FIXTURES, MODES, Row

CHECK_IDS = sorted(check_ids(), key=lambda c: int(c.rsplit("_", 1)[1]))
# Checks with one result per root module: their fixtures are one directory per case
# (tests/policies/test_root_checks.py).
PER_ROOT = {"CKV_GDPR_16"}
# Checks that judge what a plan changes against a state: the fixtures are only created, so
# their pass and fail cases are real plans of an applied deployment (test_data_at_risk.py).
CHANGES = {"CKV_GDPR_23"}


def _names(found: list[Row], check_id: str, status: str) -> set[str]:
    """Names in the check's own fixture that the check gave `status`: blocks of its file, and
    resources of the module calls it writes (their calls' names are unique in the tree)."""
    fixture = f"{check_id.lower()}/main.tf"
    calls = set(re.findall(r'^module "([a-z0-9_]+)"', (FIXTURES / fixture).read_text("utf-8"), re.M))
    return {r.name for r in found if r.check_id == check_id and r.status == status
            and (r.file == fixture or r.name in calls)}


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


@pytest.mark.parametrize("mode", MODES)
def test_every_catalogue_check_ran_on_the_fixtures(fixture_rows: dict[str, list[Row]], mode: str) -> None:
    # Checkov skips a broken check silently (import error, exception): it would just be absent.
    ran = {r.check_id for r in fixture_rows[mode]}
    assert set(CHECK_IDS) <= ran


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("check_id", sorted(set(CHECK_IDS) - PER_ROOT - CHANGES, key=CHECK_IDS.index))
def test_pass_and_fail_fixtures(fixture_rows: dict[str, list[Row]], check_id: str, mode: str) -> None:
    passed, failed = _expected(check_id, "pass"), _expected(check_id, "fail")
    assert passed and failed
    assert _names(fixture_rows[mode], check_id, "passed") == passed
    assert _names(fixture_rows[mode], check_id, "failed") == failed


@pytest.mark.parametrize("mode", MODES)
def test_every_failure_says_why(fixture_rows: dict[str, list[Row]], mode: str) -> None:
    silent = [r for r in fixture_rows[mode]
              if r.check_id.startswith("CKV_GDPR_") and r.status == "failed" and not r.details]
    assert silent == []


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


@pytest.mark.parametrize("mode", MODES)
def test_egress_checks_give_no_finding_where_they_do_not_apply(fixture_rows: dict[str, list[Row]],
                                                                mode: str) -> None:
    """CKV_GDPR_25 judges instances on the private network only, CKV_GDPR_26 the egress proxy
    only: any other instance is no evidence that data leaves only for listed destinations,
    neither passed nor failed."""
    found = [r for r in fixture_rows[mode] if (r.check_id, r.name) in {
        ("CKV_GDPR_25", "unknown_default"), ("CKV_GDPR_26", "unknown_not_a_proxy")}]
    assert found == []
