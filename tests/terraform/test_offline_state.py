"""The offline rehearsal keeps secrets as the real provider does: an application credential's
`secret` is sensitive in the derived schema (read from the provider's Go source), so plans
redact it and the state marks it; the state written back to DIR is readable by its owner only."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

from generator.terraform.schema import SENSITIVE_FILE, derive_schema
from tests.conftest import run_cli

ROOT = Path(__file__).parent / "fixtures" / "roots" / "credential_secret"
SECRET = "rehearsal-secret-7f3a"


def test_the_derived_schema_marks_what_the_provider_marks_sensitive() -> None:
    schema = derive_schema()["provider_schemas"]
    resources = next(iter(schema.values()))["resource_schemas"]
    marked = json.loads(SENSITIVE_FILE.read_text())["resources"]
    assert marked["openstack_identity_application_credential_v3"] == {
        "secret": "openstack/resource_openstack_identity_application_credential_v3.go:57"}
    for type_name, names in marked.items():
        for name in names:
            assert resources[type_name]["block"]["attributes"][name].get("sensitive") is True, (
                type_name, name)
    assert not resources["openstack_identity_application_credential_v3"]["block"]["attributes"][
        "name"].get("sensitive")


def test_an_offline_apply_keeps_the_secret_marked_and_the_state_private(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(ROOT, root)
    planned = run_cli("plan", str(root), "--offline", "-o", str(tmp_path / "plan.json"))
    assert planned.code == 0, planned.err
    plan = json.loads((tmp_path / "plan.json").read_text())
    change = next(c for c in plan["resource_changes"] if c["type"].endswith("credential_v3"))
    assert change["change"]["after_sensitive"]["secret"] is True
    assert SECRET not in (tmp_path / "plan.json").read_text()

    applied = run_cli("apply", str(root), "--offline", "--auto-approve")
    assert applied.code == 0, applied.err
    state_file = root / "terraform.tfstate"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    state = json.loads(state_file.read_text())
    instance = next(r for r in state["resources"] if r["type"].endswith("credential_v3"))["instances"][0]
    assert {"type": "get_attr", "value": "secret"} in [
        step for path in instance["sensitive_attributes"] for step in path]

    # A state that arrived readable by others (pulled with the default umask) leaves private.
    state_file.chmod(0o644)
    again = run_cli("apply", str(root), "--offline", "--auto-approve")
    assert again.code == 0, again.err
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
