"""One in-process scan per fixture tree per session: Checkov's registry is global anyway."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from generator.scan import ScanResult, scan

from ..conftest import TODAY_EPOCH

HERE = Path(__file__).resolve().parent


@contextmanager
def pinned_today() -> Iterator[None]:
    """SOURCE_DATE_EPOCH set to the suite's fixed date for the duration of a scan."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = TODAY_EPOCH
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before

FIXTURES = HERE / "fixtures"
SCAN_FIXTURES = HERE / "scan_fixtures"


@pytest.fixture(scope="session")
def fixture_scan() -> ScanResult:
    # CKV_GDPR_15 compares expiry dates with today: pin it as the rest of the suite does.
    with pinned_today():
        return scan(FIXTURES)


@pytest.fixture(scope="session")
def scans() -> dict[str, ScanResult]:
    """Scans of the small trees that pin Checkov's behaviour and the scan's own rules."""
    return {d.name: scan(d) for d in sorted(SCAN_FIXTURES.iterdir()) if d.is_dir()}
