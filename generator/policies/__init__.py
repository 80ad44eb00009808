"""The GDPR policy pack: custom Checkov checks, one per file (ids CKV_GDPR_<n>).

The checks work in HCL mode (Checkov evaluates the .tf files) and in plan mode (Checkov scans a
`terraform show -json` plan); `evidence*.py` are their shared helpers, not checks.

Checkov loads this directory with `external_checks_dir` (it needs this `__init__.py`, or it
skips the directory silently). Keep this file free of imports of the check modules: Checkov
executes each file itself, and importing them here too would register every check twice.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent


def pack_checks() -> dict[str, object]:
    """Every check of the pack by id, for tests and docs (imports the check modules)."""
    found: dict[str, object] = {}
    for info in pkgutil.iter_modules([str(DIRECTORY)]):
        if info.name.startswith("evidence"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        check = module.check
        found[check.id] = check
    return found
