"""Real Terraform 1.11 runs init, validate and plan through the offline OpenStack provider."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from tf_harness import FIXTURES, run_terraform

from generator.terraform.offline import Toolchain

EXPECTED_ADDRESSES = {
    "openstack_compute_keypair_v2.this",
    "openstack_networking_secgroup_v2.this",
    "openstack_networking_secgroup_rule_v2.https",
    "openstack_compute_servergroup_v2.this",
    "openstack_compute_instance_v2.this",
    "openstack_blockstorage_volume_v3.data",
    "openstack_compute_volume_attach_v2.data",
    "openstack_identity_application_credential_v3.backup",
}


@pytest.fixture(scope="module")
def planned(offline_toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """init, validate and plan the valid fixture once; return its directory and plan JSON."""
    workdir = tmp_path_factory.mktemp("valid") / "valid_openstack"
    shutil.copytree(FIXTURES / "valid_openstack", workdir)
    for args in (("init", "-input=false"), ("validate",), ("plan", "-input=false", "-out=plan.bin")):
        result = run_terraform(offline_toolchain, workdir, *args)
        assert result.code == 0, f"terraform {args[0]} failed:\n{result.text}"
    shown = run_terraform(offline_toolchain, workdir, "show", "-json", "plan.bin")
    assert shown.code == 0, shown.text
    return workdir, json.loads(shown.out)


def test_valid_config_plans_every_resource(planned: tuple[Path, dict]) -> None:
    _workdir, plan = planned
    changes = {c["address"]: c for c in plan["resource_changes"]}
    assert set(changes) >= EXPECTED_ADDRESSES
    for address in EXPECTED_ADDRESSES:
        assert changes[address]["change"]["actions"] == ["create"], address
    # The data source is read during plan: its id is a stable placeholder the instance uses.
    read = {r["address"]: r for r in plan["prior_state"]["values"]["root_module"]["resources"]}
    image_id = read["data.openstack_images_image_v2.ubuntu"]["values"]["id"]
    assert len(image_id) == 36
    block_device = changes["openstack_compute_instance_v2.this"]["change"]["after"]["block_device"]
    assert block_device[0]["uuid"] == image_id


def test_plan_values_follow_schema(planned: tuple[Path, dict]) -> None:
    _workdir, plan = planned
    changes = {c["address"]: c["change"] for c in plan["resource_changes"]}
    instance = changes["openstack_compute_instance_v2.this"]
    after, unknown = instance["after"], instance["after_unknown"]
    assert after["flavor_name"] == "l2.c2r4.100"
    assert after["network"] == [
        {
            "access_network": None,
            "fixed_ip_v4": None,
            "fixed_ip_v6": None,
            "mac": None,
            "name": "public",
            "port": None,
            "uuid": None,
        }
    ]
    assert after["block_device"][0]["volume_size"] == 20
    assert after["timeouts"] == {"create": "20m", "delete": None, "update": None}
    # Computed-only and optional+computed "id" are unknown until apply; set values are known.
    assert unknown["id"] is True and unknown["created"] is True and unknown["all_metadata"] is True
    assert unknown["scheduler_hints"] == [{"group": True}]
    assert after["security_groups"] == ["web"]
    attach = changes["openstack_compute_volume_attach_v2.data"]
    assert attach["after_unknown"]["instance_id"] is True
    assert attach["after_unknown"]["volume_id"] is True


def test_lock_file_names_the_offline_provider(planned: tuple[Path, dict]) -> None:
    workdir, _plan = planned
    lock = (workdir / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/terraform-provider-openstack/openstack"' in lock
    assert 'version     = "3.0.0"' in lock


INVALID_CASES = {
    "misspelt_argument": [
        'An argument named "flavour_name" is not expected here',
        'Did you mean "flavor_name"?',
    ],
    "missing_required": ['The argument "name" is required, but no definition was found.'],
    "wrong_type": ["Incorrect attribute value type", "a number is required"],
    "block_as_attribute": [
        'An argument named "network" is not expected here. Did you mean to define a block of type "network"?'
    ],
    "computed_only": ["Value for unconfigurable attribute", 'Can\'t configure a value for "fingerprint"'],
    "computed_only_nested": ["Value for unconfigurable attribute", 'Can\'t configure a value for "mac"'],
    "too_many_blocks": ["Too many vendor_options blocks"],
    "unknown_resource_type": [
        "Invalid resource type",
        'does not support resource type "openstack_compute_instance_v3"',
    ],
}


@pytest.fixture(scope="module")
def invalid_root(offline_toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory initialised once; each case validates a copy that reuses its .terraform."""
    root = tmp_path_factory.mktemp("invalid-init")
    shutil.copy(FIXTURES / "invalid" / "versions.tf.template", root / "versions.tf")
    result = run_terraform(offline_toolchain, root, "init", "-input=false")
    assert result.code == 0, result.text
    return root


@pytest.mark.parametrize("case", sorted(INVALID_CASES))
def test_invalid_config_fails_validate(
    case: str, offline_toolchain: Toolchain, invalid_root: Path, tmp_path: Path
) -> None:
    workdir = tmp_path / case
    workdir.mkdir()
    shutil.copy(invalid_root / "versions.tf", workdir / "versions.tf")
    shutil.copy(invalid_root / ".terraform.lock.hcl", workdir / ".terraform.lock.hcl")
    (workdir / ".terraform").symlink_to(invalid_root / ".terraform")
    shutil.copy(FIXTURES / "invalid" / f"{case}.tf", workdir / "main.tf")
    result = run_terraform(offline_toolchain, workdir, "validate")
    assert result.code == 1, result.text
    text = " ".join(result.text.split())
    for expected in INVALID_CASES[case]:
        assert " ".join(expected.split()) in text, f"{case}: {expected!r} not in:\n{result.text}"


def test_invalid_fixtures_all_covered() -> None:
    on_disk = {p.stem for p in (FIXTURES / "invalid").glob("*.tf")}
    assert on_disk == set(INVALID_CASES)


def test_aws_and_openstack_mirrors_together(offline_toolchain: Toolchain, fixture_copy) -> None:
    workdir = fixture_copy("mixed_aws_openstack")
    init = run_terraform(offline_toolchain, workdir, "init", "-input=false")
    assert init.code == 0, init.text
    assert "Installed hashicorp/aws v5.100.0" in init.out
    assert "Installed terraform-provider-openstack/openstack v3.0.0" in init.out
    validate = run_terraform(offline_toolchain, workdir, "validate")
    assert validate.code == 0, validate.text


def test_apply_records_the_plan_and_force_new_arguments_replace(offline_toolchain: Toolchain,
                                                                  fixture_copy) -> None:
    """Offline apply is a rehearsal: the planned values go into a local state with generated IDs;
    a changed user_data (ForceNew in the provider's source) then plans a replacement, a changed
    name an update in place, as Terraform plans them against Safespring."""
    workdir = fixture_copy("invalid")
    for tf in workdir.glob("*.tf"):
        tf.unlink()
    (workdir / "versions.tf.template").rename(workdir / "versions.tf")

    def write(name: str, user_data: str) -> None:
        (workdir / "main.tf").write_text(
            'resource "openstack_compute_instance_v2" "this" {\n'
            f'  name      = "{name}"\n  user_data = "{user_data}"\n'
            '  network {\n    name = "public"\n  }\n}\n')

    write("a", "one")
    assert run_terraform(offline_toolchain, workdir, "init", "-input=false").code == 0
    applied = run_terraform(offline_toolchain, workdir, "apply", "-auto-approve", "-input=false")
    assert applied.code == 0, applied.text
    state = json.loads((workdir / "terraform.tfstate").read_text())
    attributes = state["resources"][0]["instances"][0]["attributes"]
    assert uuid.UUID(attributes["id"]) and attributes["name"] == "a"

    def actions() -> list[str]:
        planned = run_terraform(offline_toolchain, workdir, "plan", "-refresh=false", "-out=p.tfplan")
        assert planned.code == 0, planned.text
        shown = run_terraform(offline_toolchain, workdir, "show", "-json", "p.tfplan")
        change = json.loads(shown.out)["resource_changes"][0]
        paths = change["change"].get("replace_paths") or []
        return [*change["change"]["actions"], *(".".join(p) for p in paths)]

    write("b", "one")
    assert actions() == ["update"]
    write("a", "two")
    assert actions() == ["delete", "create", "user_data"]
