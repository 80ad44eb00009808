"""Checks that look at a whole root module (CKV_GDPR_16's backend, CKV_GDPR_22's deployment):
one fixture directory per case, in both modes."""

from __future__ import annotations

import datetime as dt

import pytest

from generator.policies.ckv_gdpr_15_app_credential_expiry import MAX_DAYS, expiry_problem, today

from .conftest import FIXTURES, MODES, Row, pinned_today


def _results(found: list[Row], check_id: str) -> dict[str, str]:
    """Case directory -> status of the check in it."""
    prefix = f"{check_id.lower()}/"
    return {r.file[len(prefix):].split("/", 1)[0]: r.status for r in found
            if r.check_id == check_id and r.file.startswith(prefix)}


@pytest.mark.parametrize("mode", MODES)
def test_state_backend_cases(fixture_rows: dict[str, list[Row]], mode: str) -> None:
    cases = sorted(p.name for p in (FIXTURES / "ckv_gdpr_16").iterdir() if p.is_dir())
    expected = {c: "passed" if c.startswith("pass") else "failed" for c in cases if c != "no_backend"}
    # A root without a remote backend keeps state locally: no result at all. (In plan mode the
    # backend is read from the .tf source: a plan JSON does not record it.)
    assert _results(fixture_rows[mode], "CKV_GDPR_16") == expected
    # One result per root, on its default provider block.
    rows = [r for r in fixture_rows[mode] if r.check_id == "CKV_GDPR_16"]
    assert {r.name for r in rows} == {"default"}


@pytest.mark.parametrize("mode", MODES)
def test_personal_volumes_pass_where_the_deployment_has_a_backup_bucket(
        fixture_rows: dict[str, list[Row]], mode: str) -> None:
    found = {(r.name, r.status) for r in fixture_rows[mode]
             if r.check_id == "CKV_GDPR_22" and r.file == "ckv_gdpr_22/with_backup/main.tf"}
    assert found == {("pass", "passed")}


def test_state_backend_reported_once_per_blueprint() -> None:
    from generator.scan import scan

    from ..conftest import ROOT

    result = scan(ROOT / "blueprints" / "patient-portal")
    rows = [(f.file, f.status) for f in result.findings if f.check_id == "CKV_GDPR_16"]
    # providers.tf of the root; bootstrap/ keeps its state locally and gets nothing.
    assert rows == [("providers.tf", "passed")]


def test_today_follows_source_date_epoch() -> None:
    with pinned_today():
        assert today() == dt.date(2026, 11, 27)


@pytest.mark.parametrize(("expires", "ok"), [
    ("2026-11-27T00:00:00Z", True),                   # expires today: still valid today
    ("2026-11-26T23:59:59Z", False),                  # yesterday
    (f"{dt.date(2026, 11, 27) + dt.timedelta(days=MAX_DAYS)}T23:59:59Z", True),
    (f"{dt.date(2026, 11, 27) + dt.timedelta(days=MAX_DAYS + 1)}T00:00:00Z", False),
    ("2027-01-31T23:59:59+01:00", True),
    ("next year", False),
    ("${var.expires}", False),
])
def test_credential_window_edges(expires: str, ok: bool) -> None:
    conf = {"unrestricted": [False], "expires_at": [expires]}
    assert (expiry_problem(conf, dt.date(2026, 11, 27)) is None) is ok
