"""Defaults that depend on other values of the spec: the backup keep counts a personal-data
spec leaves out, lowered to fit its retention.

The schema fills each left-out count of `backup.keep` with a fixed default (0/7/4/12), which
keeps deleted data in the backups for about 409 days (12 months, the weekly prune, 30 days of
deleted versions in the bucket): longer than the default `data.retention_days` of 365, so a
spec written with every default would fail storage limitation (Art. 5(1)(e), GDPR-LIM-1) in its
own report. With personal data each left-out count is lowered to the most whose snapshots let
the backups give up deleted data within the retention; the counts a spec writes are never changed
(rules.py refuses one that cannot fit) and each lowered default is a warning (rules.py).
"""

from __future__ import annotations

from typing import Any

from generator.spec.load import Positions
from generator.spec.model import KEEP_DEFAULTS, fitted_keep


def written_keep(positions: Positions) -> frozenset[str]:
    """The counts of `backup.keep` the spec writes itself."""
    return frozenset(k for k in KEEP_DEFAULTS if ("backup", "keep", k) in positions.values)


def backup_lock_days(backup: dict[str, Any]) -> int:
    """The Object Lock days of a schema-defaulted backup section (14 unless written)."""
    lock = backup.get("lock")
    days = lock.get("days") if isinstance(lock, dict) else None
    return days if isinstance(days, int) and not isinstance(days, bool) else 14


def fit(data: dict[str, Any], positions: Positions) -> dict[str, Any]:
    """`data` (schema-defaulted) with the left-out keep counts of a personal-data spec fitted to
    its retention. Anything the shape does not allow is left for the rules to refuse."""
    section = data.get("data")
    backup = data.get("backup")
    if not isinstance(section, dict) or section.get("personal") is not True \
            or not isinstance(backup, dict) or not isinstance(backup.get("keep"), dict):
        return data
    retention = section.get("retention_days")
    keep = backup["keep"]
    if not isinstance(retention, int) or not all(
            isinstance(keep.get(k), int) and not isinstance(keep.get(k), bool) for k in KEEP_DEFAULTS):
        return data
    fitted = fitted_keep(keep, written_keep(positions), retention, backup_lock_days(backup))
    return {**data, "backup": {**backup, "keep": fitted}}
