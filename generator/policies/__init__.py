"""The GDPR policy pack: custom Checkov checks, one per file (ids CKV_GDPR_<n>).

`ckv_gdpr_<n>_<what>.py` holds check CKV_GDPR_<n>: a thin judge on the base in
generator/evidence/check.py, which reads the check's name, severity and remediation from
generator/data/checks.yaml and does the plumbing of both scan modes (HCL and plan). The
evidence the checks judge is read by generator/evidence/; nothing in this directory but checks.

Checkov loads this directory with `external_checks_dir` (it needs this `__init__.py`, or it
skips the directory silently) and executes every file in it as a module named after the file.
Keep this file free of imports of the check modules: importing them here too would register
every check twice.
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
        module = importlib.import_module(f"{__name__}.{info.name}")
        check = module.check
        found[check.id] = check
    return found
