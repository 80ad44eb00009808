"""Each custom check against its pass/fail fixture, plus the pack's own conventions."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from generator.checks import checks
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
            and (r.file == fixture or r.name.split("[")[0] in calls)}


# Names in a fixture say what each block must give: `pass...`, `fail...` and `unknown...` in both
# modes; `hcl_unknown_pass...` / `hcl_unknown_fail...` are UNKNOWN in HCL mode (a value Checkov's
# HCL evaluation leaves open) and passed / failed in plan mode, where Terraform evaluates it.
PREFIXES = {
    ("passed", "hcl"): ("pass",), ("passed", "plan"): ("pass", "hcl_unknown_pass"),
    ("failed", "hcl"): ("fail",), ("failed", "plan"): ("fail", "hcl_unknown_fail"),
    ("unknown", "hcl"): ("unknown", "hcl_unknown"), ("unknown", "plan"): ("unknown",),
}


def _expected(check_id: str, status: str, mode: str) -> set[str]:
    """Resource/provider names in the fixture that must get `status` in `mode`."""
    text = (FIXTURES / check_id.lower() / "main.tf").read_text("utf-8")
    names = set(re.findall(r'^resource "[a-z0-9_]+" "([a-z0-9_]+)"', text, re.M))
    names |= set(re.findall(r'^\s*alias\s*=\s*"([a-z0-9_]+)"', text, re.M))
    names |= set(re.findall(r'^module "([a-z0-9_]+)"', text, re.M))
    counted = {n for n in names if re.search(rf'"{n}" {{\n\s*count\s*=\s*2', text)}
    out: set[str] = set()
    for n in names:
        if not n.startswith(PREFIXES[(status, mode)]):
            continue
        out |= {f"{n}[0]", f"{n}[1]"} if n in counted else {n}
    # A module call over a literal map: each key names what its instance must give.
    calls = re.findall(r'^module "([a-z0-9_]+)" {\n(?:.*\n)*?\s*for_each\s*=\s*{([^}]*)}', text, re.M)
    for call, keys in calls:
        out |= {f'{call}["{k}"]' for k in re.findall(r"([a-z0-9_]+)\s*=", keys)
                if k.startswith(PREFIXES[(status, mode)])}
    return out


@pytest.mark.parametrize("mode", MODES)
def test_every_catalogue_check_ran_on_the_fixtures(fixture_rows: dict[str, list[Row]], mode: str) -> None:
    # Checkov skips a broken check silently (import error, exception): it would just be absent.
    ran = {r.check_id for r in fixture_rows[mode]}
    assert set(CHECK_IDS) <= ran


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("check_id", sorted(set(CHECK_IDS) - PER_ROOT - CHANGES, key=CHECK_IDS.index))
def test_pass_and_fail_fixtures(fixture_rows: dict[str, list[Row]], check_id: str, mode: str) -> None:
    assert _expected(check_id, "passed", mode) and _expected(check_id, "failed", mode)
    for status in ("passed", "failed", "unknown"):
        assert _names(fixture_rows[mode], check_id, status) == _expected(check_id, status, mode), status


@pytest.mark.parametrize("mode", MODES)
def test_every_failure_says_why(fixture_rows: dict[str, list[Row]], mode: str) -> None:
    silent = [r for r in fixture_rows[mode]
              if r.check_id.startswith("CKV_GDPR_") and r.status in ("failed", "unknown") and not r.details]
    assert silent == []


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_conventions(check_id: str) -> None:
    check = pack_checks()[check_id]
    meta = checks()[check_id]
    assert check.name == meta.name and check.name.startswith("Ensure "), check.name
    assert check.severity.name == meta.severity
    assert check.guideline == controls_for_check(check_id)[0].url
    assert set(meta.resources or meta.providers) == set(check.supported_entities)


def test_every_check_has_metadata_and_every_metadata_a_check() -> None:
    assert set(checks()) == set(pack_checks()) == set(CHECK_IDS)


def test_a_file_is_named_after_its_check_and_holds_only_it() -> None:
    files = sorted(p for p in Path(DIRECTORY).glob("*.py") if p.name != "__init__.py")
    assert len(files) == len(pack_checks())
    for path in files:
        text = path.read_text("utf-8")
        number = re.match(r"ckv_gdpr_([0-9]+)_[a-z0-9_]+\.py$", path.name)
        assert number, path.name
        module = importlib.import_module(f"generator.policies.{path.stem}")
        assert module.check.id == f"CKV_GDPR_{number.group(1)}", path.name
        assert text.count("\ncheck = ") == 1, path.name
        # One judge: a class of its own, or one made by a factory (the companion checks).
        classes = len(re.findall(r"^class ", text, re.M))
        assert classes == 1 or (classes == 0 and "companion_check(" in text), path.name


@pytest.mark.parametrize("mode", MODES)
def test_egress_checks_give_no_finding_where_they_do_not_apply(fixture_rows: dict[str, list[Row]],
                                                                mode: str) -> None:
    """CKV_GDPR_25 judges instances on the private network only, CKV_GDPR_26 the egress proxy
    only: any other instance is no evidence that data leaves only for listed destinations,
    neither passed nor failed."""
    found = [r for r in fixture_rows[mode] if (r.check_id, r.name) in {
        ("CKV_GDPR_25", "none_default"), ("CKV_GDPR_25", "none_not_personal"),
        ("CKV_GDPR_26", "none_not_a_proxy")}]
    assert found == []
