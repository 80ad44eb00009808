"""Checks with one result per root module (CKV_GDPR_16): one fixture directory per case."""

from __future__ import annotations

import datetime as dt

import pytest

from generator.policies.gdpr_app_credential_expiry import MAX_DAYS, expiry_problem, today
from generator.scan import ScanResult

from .conftest import FIXTURES, pinned_today


def _results(result: ScanResult, check_id: str) -> dict[str, str]:
    """Case directory -> status of the check in it."""
    prefix = f"{check_id.lower()}/"
    return {f.file[len(prefix):].split("/", 1)[0]: f.status for f in result.findings
            if f.check_id == check_id and f.file.startswith(prefix)}


def test_state_backend_cases(fixture_scan: ScanResult) -> None:
    cases = sorted(p.name for p in (FIXTURES / "ckv_gdpr_16").iterdir() if p.is_dir())
    expected = {c: "passed" if c.startswith("pass") else "failed" for c in cases if c != "no_backend"}
    # A root without a remote backend keeps state locally: no result at all.
    assert _results(fixture_scan, "CKV_GDPR_16") == expected
    # One result per root, on its default provider block.
    rows = [f for f in fixture_scan.findings if f.check_id == "CKV_GDPR_16"]
    assert {f.resource for f in rows} == {"openstack.default"}


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
