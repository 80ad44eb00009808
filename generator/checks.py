"""The checks of the policy pack as data (`data/checks.yaml`): name, severity, category, what
each judges and how to fix what it finds.

The checks themselves (generator/policies/) only judge; Checkov, the scan and the docs read what
a check is called and how severe it is from here, as Prowler keeps its check metadata apart
from the check's code. Which control and GDPR provision a check evidences is the control
catalogue's (generator/controls.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

_ID = re.compile(r"^CKV_GDPR_[0-9]+$")
# How a check's UNKNOWN reaches the scan through Checkov, which reports only passed, failed and
# skipped: a failure whose details start with this (plain Checkov runs fail closed on it).
UNKNOWN_MARK = "UNKNOWN: "
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")


@dataclass(frozen=True)
class CheckMeta:
    """What data/checks.yaml says about one check."""

    id: str
    name: str
    severity: str
    category: str
    resources: tuple[str, ...]
    providers: tuple[str, ...]
    remediation: str


def _load(text: str) -> dict[str, CheckMeta]:
    raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    out = {}
    for check_id, entry in raw["checks"].items():
        meta = CheckMeta(
            id=check_id, name=" ".join(entry["name"].split()), severity=entry["severity"],
            category=entry["category"], resources=tuple(entry.get("resources") or ()),
            providers=tuple(entry.get("providers") or ()),
            remediation=" ".join(str(entry.get("remediation") or "").split()))
        # A broken entry must fail here, not become a check Checkov skips without a word.
        if not _ID.match(check_id) or meta.severity not in SEVERITIES \
                or not meta.name.startswith("Ensure ") or not (meta.resources or meta.providers) \
                or not meta.remediation:
            raise ValueError(f"checks.yaml: {check_id} is incomplete or malformed")
        out[check_id] = meta
    return out


@cache
def checks() -> dict[str, CheckMeta]:
    """Every check's metadata by id."""
    return _load(resources.files("generator").joinpath("data/checks.yaml").read_text("utf-8"))


def check(check_id: str) -> CheckMeta | None:
    """One check's metadata (None for a check that is not the pack's, e.g. a built-in one)."""
    return checks().get(check_id)
