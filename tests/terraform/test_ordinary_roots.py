"""Plan mode for ordinary roots, offline: a child module without `required_providers` (Terraform
asks for hashicorp/openstack) and the small providers roots use beside OpenStack (random, null,
local, tls, time) are served from their schemas; any other provider gets one message naming it,
and `scan --plan` falls back to the HCL scan, saying so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tf_harness import FIXTURES

from generator import api
from generator.terraform import providers
from tests.conftest import run_cli

ROOTS = FIXTURES / "roots"
# root -> (the served provider it needs, a resource of it, what the plan leaves unknown there)
SERVED = {
    "implicit_openstack": (providers.HASHICORP_OPENSTACK,
                           "module.volume.openstack_blockstorage_volume_v3.this", "id"),
    "random_password": ("registry.terraform.io/hashicorp/random", "random_password.backup", "result"),
    "null_resource": ("registry.terraform.io/hashicorp/null", "null_resource.resized", "id"),
    "local_file": ("registry.terraform.io/hashicorp/local", "local_file.user_data", "id"),
    "tls_private_key": ("registry.terraform.io/hashicorp/tls", "tls_private_key.admin",
                        "public_key_openssh"),
    "time_rotating": ("registry.terraform.io/hashicorp/time", "time_rotating.credential",
                      "rotation_rfc3339"),
}


@pytest.mark.parametrize("name", sorted(SERVED))
def test_each_root_plans_offline_and_scans_in_plan_mode(name: str, tmp_path: Path) -> None:
    root = tmp_path / name
    shutil.copytree(ROOTS / name, root)
    address, resource, unknown = SERVED[name]
    from generator.terraform.workspace import Workspace

    with Workspace(root, offline=True) as ws:
        assert ws.init().ok
        steps, data = ws.plan()
        assert all(s.ok for s in steps), [s.output[-2000:] for s in steps]
        assert ws.served.get(address) == "schema"
    change = next(c["change"] for c in data["resource_changes"] if c["address"] == resource)
    assert change["actions"] == ["create"]
    # Known only after apply, with the real provider as with the schema-only one.
    assert change["after_unknown"][unknown] is True
    out = run_cli("scan", str(root), "--plan", "--offline", "--format", "json", timeout=300)
    assert out.code in (0, 1), out.err
    result = json.loads(out.out)
    assert result["mode"] == "plan", out.err
    assert result["findings"], out.out
    assert "HCL mode instead" not in out.err


def _credential_findings(root: Path) -> list[dict]:
    out = run_cli("scan", str(root), "--plan", "--offline", "--format", "json", timeout=300)
    return [f for f in json.loads(out.out)["findings"] if f["check_id"] == "CKV_GDPR_15"]


def test_known_and_unknown_values_of_served_providers_reach_the_checks(tmp_path: Path) -> None:
    """A credential whose secret is a random_password has its configured expiry judged (passes);
    one expiring with a time_rotating is unknown at plan time, not absent (the check does not
    read it as "never expires"): the rotation is known only after apply."""
    for name in ("random_password", "time_rotating"):
        shutil.copytree(ROOTS / name, tmp_path / name)
    checks, data = api.plan_data(tmp_path / "random_password", offline=True)
    assert checks.ok
    credential = next(c["change"]["after"] for c in data["resource_changes"]
                      if c["address"] == "openstack_identity_application_credential_v3.backup")
    assert credential["expires_at"] == "2027-06-30T00:00:00Z"
    [passed] = _credential_findings(tmp_path / "random_password")
    assert passed["status"] == "passed", passed
    checks, data = api.plan_data(tmp_path / "time_rotating", offline=True)
    assert checks.ok
    change = next(c["change"] for c in data["resource_changes"]
                  if c["address"] == "openstack_identity_application_credential_v3.ci")
    assert change["after_unknown"]["expires_at"] is True  # not null: not "never expires"
    [rotating] = _credential_findings(tmp_path / "time_rotating")
    # Known only after apply: UNKNOWN (what to declare), never "never expires" or a bad format.
    assert rotating["status"] == "unknown", rotating
    assert not any("never expires" in d or "RFC 3339" in d for d in rotating["details"]), rotating


def test_an_unknown_provider_gets_one_message_and_the_hcl_fallback(tmp_path: Path) -> None:
    root = tmp_path / "unknown_provider"
    shutil.copytree(ROOTS / "unknown_provider", root)
    plan = run_cli("plan", str(root), "--offline", timeout=300)
    assert plan.code == 1
    message = "no offline schema for provider example/foo"
    assert plan.err.count(message) == 1, plan.err
    assert "scan DIR" in plan.err
    scan = run_cli("scan", str(root), "--plan", "--offline", "--format", "json", timeout=300)
    assert scan.err.count(message) == 1, scan.err
    assert "in HCL mode instead" in scan.err and "example/foo" in scan.err
    result = json.loads(scan.out)
    assert result["mode"] == "hcl"
    assert any(f["resource"] == "openstack_blockstorage_volume_v3.data" for f in result["findings"])
