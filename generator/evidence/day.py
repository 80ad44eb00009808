"""The day a scan judges dates against (credential expiry, login end dates).

Set by the scan (generator/scan.py, from the report's or the command's `--today`), so every check
of one scan judges against the same day; else SOURCE_DATE_EPOCH's UTC date (reproducible scans
and tests), else the clock's.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager

_SCAN_DATE: dt.date | None = None


def scan_date() -> dt.date:
    """The day of this scan: the one the scan was given, else SOURCE_DATE_EPOCH's UTC date,
    else the clock's."""
    if _SCAN_DATE is not None:
        return _SCAN_DATE
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()


@contextmanager
def judged_on(day: dt.date | None) -> Iterator[None]:
    """Within this block every check judges dates against `day` (None: scan_date's fallback).
    A module global, not a context variable: Checkov may run checks in worker threads."""
    global _SCAN_DATE
    before, _SCAN_DATE = _SCAN_DATE, day
    try:
        yield
    finally:
        _SCAN_DATE = before
