"""Evidence on whole scans: a user_data the real OpenStack provider plans as its SHA-1 is read from
the file it is built from (the readers' edge cases are tested in tests/evidence)."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from pathlib import Path

from generator.api import scan_plan_data

from ..conftest import ROOT

BLUEPRINT_VARIABLES = {"key_pair": "offline-test"}


def _with_hashed_user_data(plan: dict) -> dict:
    """The plan as the real OpenStack provider makes it: user_data planned as its SHA-1."""
    doc = copy.deepcopy(plan)

    def walk(module: dict) -> None:
        for res in module.get("resources") or []:
            values = res.get("values") or {}
            if res.get("type") == "openstack_compute_instance_v2" and values.get("user_data"):
                values["user_data"] = hashlib.sha1(values["user_data"].encode()).hexdigest()
        for child in module.get("child_modules") or []:
            walk(child)

    walk(doc["planned_values"]["root_module"])
    return doc


def test_user_data_planned_as_its_hash_is_read_from_the_file_it_is_built_from(
        planned: Callable[..., dict], tmp_path: Path) -> None:
    root = ROOT / "blueprints" / "patient-portal"
    hashed = _with_hashed_user_data(planned(root, BLUEPRINT_VARIABLES))
    result = scan_plan_data(hashed, root)
    rows = {(f.resource, f.status) for f in result.findings if f.check_id == "CKV_GDPR_17"}
    assert rows and {status for _, status in rows} == {"passed"}
    # Without the .tf source the file cannot be found: it fails and says what is missing.
    stray = tmp_path / "elsewhere"
    stray.mkdir()
    result = scan_plan_data(hashed, stray)
    details = {"; ".join(f.details) for f in result.findings if f.check_id == "CKV_GDPR_17"}
    assert details == {"user_data is planned as its SHA-1 (the OpenStack provider stores only the hash): "
                       "scan with the .tf source at hand so the file it is built from can be read"}
