"""Schema-only providers (plugin protocol v6) for offline validate, plan and apply rehearsals.

One class serves any provider whose schema has the shape of ``terraform providers schema -json``:
the OpenStack provider 3.0.0 (derived from its cdktf bindings), the aws provider's S3 resources
(from the real aws provider's own schema) and the small utility providers (random, null, local,
tls, time; from their cdktf bindings); see :mod:`generator.terraform.providers`.

Terraform itself then rejects unknown arguments ("Did you mean"), missing required arguments,
wrong types, attribute-vs-block mistakes and unknown resource types. This provider adds the
checks a real SDKv2 provider makes on its side: values on computed-only attributes and the
number of items in nested blocks. Plans work (computed attributes become unknown, or take the
default the real provider plans, where one is recorded), and a change of a top-level argument
the real provider marks `ForceNew` is answered with "requires replace" (for OpenStack:
generator/data/openstack_force_new.json, read from the provider's source with the file and line
of each), so Terraform core plans replace or update in place as it will against Safespring.
ForceNew arguments inside nested blocks (e.g. `block_device.volume_size`) are not modelled: a
change there plans as an update in place.

Apply is an offline rehearsal: nothing talks to an API; a created or updated resource is
recorded as planned, every value known only after apply given a generated placeholder (`id` a
UUID derived from the address-free configuration and a counter), so a local state exists to
plan the next change against.

Served by :mod:`generator.terraform.serve` (one process for every provider of a workspace), or
run as ``python -m generator.terraform.provider`` from the filesystem mirror (OpenStack only).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any, ClassVar

from tf.gen import tfplugin_pb2 as pb
from tf.iface import (
    Config,
    CreateContext,
    DataSource,
    DeleteContext,
    ReadContext,
    ReadDataContext,
    Resource,
    State,
    UpdateContext,
)
from tf.runner import run_provider
from tf.schema import Attribute, Block, NestedBlock, NestMode, Schema, TextFormat
from tf.types import TfType, Unknown
from tf.utils import AttributePath, Diagnostics

from generator.terraform.schema import PROVIDER_ADDRESS, load_schema

SCHEMA_ENV = "SAFESPRING_BLUEPRINTS_OPENSTACK_SCHEMA"
"""Path of a cached schema JSON; without it the schema is derived at start-up (~0.3 s)."""

_NESTING = {
    "single": pb.Schema.NestedBlock.NestingMode.SINGLE,
    "list": pb.Schema.NestedBlock.NestingMode.LIST,
    "set": pb.Schema.NestedBlock.NestingMode.SET,
    "map": pb.Schema.NestedBlock.NestingMode.MAP,
    "group": pb.Schema.NestedBlock.NestingMode.GROUP,
}
_PLACEHOLDER_NAMESPACE = uuid.UUID("6f1d2c4e-55a8-4c1e-9d0b-8d6c3a1f0b7e")


class CtyType(TfType):
    """Any cty type, given as its JSON form; values pass through unchanged."""

    def __init__(self, cty: Any):
        self.cty = cty

    def encode(self, value: Any) -> Any:
        return value

    def decode(self, value: Any) -> Any:
        return value

    def tf_type(self) -> bytes:
        return json.dumps(self.cty, separators=(",", ":")).encode()


class SchemaNestedBlock(NestedBlock):
    """A nested block in any nesting mode (``tf`` itself knows only set and single)."""

    def __init__(self, type_name: str, mode: str, block: Block, min_items: int = 0, max_items: int = 0):
        # NestMode only has Set/Single; the real mode is kept in ``mode`` and used in to_pb.
        nest_mode = NestMode.Single if mode == "single" else NestMode.Set
        super().__init__(type_name, nest_mode, block, min_items, max_items)
        self.mode = mode

    def to_pb(self) -> pb.Schema.NestedBlock:
        return pb.Schema.NestedBlock(
            type_name=self.type_name,
            block=self.block.to_pb(),
            min_items=self.min_items or 0,
            max_items=self.max_items or 0,
            nesting=_NESTING[self.mode],
        )

    def encode(self, value: Any) -> Any:
        return value

    def decode(self, value: Any) -> Any:
        return value

    def semantically_equal(self, a_decoded: Any, b_decoded: Any) -> bool:
        return a_decoded == b_decoded


def force_new() -> dict[str, dict[str, str]]:
    """Resource type -> {argument: where the provider's source marks it ForceNew}."""
    path = Path(__file__).resolve().parents[1] / "data" / "openstack_force_new.json"
    return json.loads(path.read_text("utf-8"))["resources"]


def _attributes(block: dict[str, Any], replacing: frozenset[str] = frozenset()) -> list[Attribute]:
    return [
        Attribute(
            name,
            CtyType(spec["type"]),
            description=spec.get("description"),
            required=spec.get("required", False),
            optional=spec.get("optional", False),
            computed=spec.get("computed", False),
            sensitive=spec.get("sensitive", False),
            description_kind=TextFormat.Plain,
            requires_replace=name in replacing or None,
        )
        for name, spec in block.get("attributes", {}).items()
    ]


def _nested(block: dict[str, Any]) -> list[NestedBlock]:
    return [
        SchemaNestedBlock(
            name,
            spec["nesting_mode"],
            Block(attributes=_attributes(spec["block"]), block_types=_nested(spec["block"])),
            spec.get("min_items", 0),
            spec.get("max_items", 0),
        )
        for name, spec in block.get("block_types", {}).items()
    ]


def to_tf_schema(entry: dict[str, Any], replacing: frozenset[str] = frozenset()) -> Schema:
    """Turn one ``providers schema -json`` entry into a ``tf`` Schema (`replacing`: the
    top-level attributes whose change requires a new resource)."""
    block = entry["block"]
    return Schema(
        version=entry.get("version", 0),
        attributes=_attributes(block, replacing),
        block_types=_nested(block),
        description=block.get("description"),
        description_kind=TextFormat.Plain,
    )


def check_config(diags: Diagnostics, block: dict[str, Any], value: Any, path: AttributePath) -> None:
    """Report what the real (SDKv2) provider rejects on its side of validation."""
    if not isinstance(value, dict):
        return  # null or unknown: nothing to check yet
    for name, spec in block.get("attributes", {}).items():
        computed_only = spec.get("computed") and not spec.get("optional") and not spec.get("required")
        if computed_only and value.get(name) is not None:
            diags.add_error(
                "Value for unconfigurable attribute",
                f'Can\'t configure a value for "{name}": its value will be decided automatically '
                "based on the result of applying this configuration.",
                path=[*path, name],
            )
    for name, spec in block.get("block_types", {}).items():
        nested = value.get(name)
        if nested is None or nested is Unknown:
            continue
        mode = spec["nesting_mode"]
        if mode in ("single", "group"):
            check_config(diags, spec["block"], nested, [*path, name])
            continue
        items = list(nested.values()) if isinstance(nested, dict) else list(nested)
        max_items, min_items = spec.get("max_items", 0), spec.get("min_items", 0)
        if max_items and len(items) > max_items:
            diags.add_error(
                f"Too many {name} blocks",
                f'No more than {max_items} "{name}" blocks are allowed.',
                path=[*path, name],
            )
        if min_items and len(items) < min_items and Unknown not in items:
            diags.add_error(
                f"Insufficient {name} blocks",
                f'At least {min_items} "{name}" blocks are required.',
                path=[*path, name],
            )
        for index, item in enumerate(items):
            # Set elements cannot be addressed by index in an attribute path.
            item_path = [*path, name, (index,)] if mode == "list" else [*path, name]
            check_config(diags, spec["block"], item, item_path)


class _SchemaBacked:
    """Common parts of the generated resource and data source classes."""

    type_name: ClassVar[str] = ""
    entry: ClassVar[dict[str, Any]] = {}
    tf_schema: ClassVar[Schema]

    def __init__(self, provider: SchemaOnlyProvider):
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return cls.type_name

    @classmethod
    def get_schema(cls) -> Schema:
        return cls.tf_schema

    def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
        check_config(diags, self.entry["block"], config, [])


def _placeholder(cty: Any, seed: str) -> Any:
    """A value for an attribute known only after apply, of its cty type."""
    if cty == "string":
        return str(uuid.uuid5(_PLACEHOLDER_NAMESPACE, seed))
    if cty == "number":
        return 0
    if cty == "bool":
        return False
    if isinstance(cty, list) and cty and cty[0] in ("list", "set"):
        return []
    if isinstance(cty, list) and cty and cty[0] == "map":
        return {}
    return None


def known(block: dict[str, Any], value: Any, seed: str) -> Any:
    """`value` with every Unknown replaced by a placeholder (recursively through blocks)."""
    if value is Unknown:
        return None
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for name, spec in block.get("attributes", {}).items():
        if out.get(name) is Unknown:
            out[name] = _placeholder(spec["type"], f"{seed}/{name}")
    for name, spec in block.get("block_types", {}).items():
        nested = out.get(name)
        if nested is Unknown:
            out[name] = None if spec["nesting_mode"] in ("single", "group") else []
        elif isinstance(nested, list):
            out[name] = [known(spec["block"], item, f"{seed}/{name}/{i}") for i, item in enumerate(nested)]
        elif isinstance(nested, dict) and spec["nesting_mode"] in ("single", "group"):
            out[name] = known(spec["block"], nested, f"{seed}/{name}")
    return out


class OfflineResource(_SchemaBacked, Resource):
    """Plans like the real resource; applies by recording the planned values (a rehearsal)."""

    def create(self, ctx: CreateContext, planned: State) -> State | None:
        seed = json.dumps([ctx.type_name, planned, str(uuid.uuid4())], sort_keys=True, default=str)
        return known(self.entry["block"], planned, seed)

    def read(self, ctx: ReadContext, current: State) -> State | None:
        return current

    def update(self, ctx: UpdateContext, current: State, planned: State) -> State | None:
        seed = json.dumps([ctx.type_name, current.get("id") if isinstance(current, dict) else None])
        return known(self.entry["block"], planned, seed)

    def delete(self, ctx: DeleteContext, current: State) -> None:
        return None


class OfflineDataSource(_SchemaBacked, DataSource):
    """Echoes its configuration; ``id`` gets a stable placeholder, other computed values stay null."""

    def read(self, ctx: ReadDataContext, config: Config) -> State | None:
        state = dict(config)
        if "id" in state and state["id"] is None:
            seed = json.dumps([ctx.type_name, config], sort_keys=True, default=str)
            state["id"] = str(uuid.uuid5(_PLACEHOLDER_NAMESPACE, seed))
        return state


def _make_class(base: type, type_name: str, entry: dict[str, Any],
                replacing: frozenset[str] = frozenset()) -> type:
    return type(
        "".join(part.title() for part in type_name.split("_")),
        (base,),
        {"type_name": type_name, "entry": entry, "tf_schema": to_tf_schema(entry, replacing)},
    )


class SchemaOnlyProvider:
    """The ``tf`` Provider serving one provider's schema (``providers schema -json`` shape).

    `types`: the resource and data source types to serve (default: all). A workspace serves the
    types its configuration uses only: the aws schema has ~2,100 of them, and Terraform asks for
    the whole schema once per command. `replacing`: resource type -> the top-level arguments
    whose change requires a new resource."""

    def __init__(self, address: str, schemas: dict[str, Any], *,
                 replacing: dict[str, Any] | None = None, types: frozenset[str] | None = None):
        self.address = address
        self.provider_entry = schemas["provider"]
        replacing = replacing or {}

        def wanted(name: str) -> bool:
            return types is None or name in types

        self.resources = [_make_class(OfflineResource, name, entry, frozenset(replacing.get(name, ())))
                          for name, entry in schemas.get("resource_schemas", {}).items() if wanted(name)]
        self.data_sources = [_make_class(OfflineDataSource, name, entry)
                             for name, entry in schemas.get("data_source_schemas", {}).items()
                             if wanted(name)]

    def get_model_prefix(self) -> str:
        return ""

    def full_name(self) -> str:
        return self.address

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        return to_tf_schema(self.provider_entry)

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        check_config(diags, self.provider_entry["block"], config, [])

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        return None

    def get_resources(self) -> list[type[Resource]]:
        return list(self.resources)

    def get_data_sources(self) -> list[type[DataSource]]:
        return list(self.data_sources)

    def get_functions(self) -> list:
        return []

    def new_resource(self, klass: type[Resource]) -> Resource:
        return klass(self)  # type: ignore[call-arg]

    def new_data_source(self, klass: type[DataSource]) -> DataSource:
        return klass(self)  # type: ignore[call-arg]


class OfflineOpenStackProvider(SchemaOnlyProvider):
    """The derived OpenStack 3.0.0 schema, every type, ForceNew arguments replacing."""

    def __init__(self, document: dict[str, Any], types: frozenset[str] | None = None):
        super().__init__(PROVIDER_ADDRESS, document["provider_schemas"][PROVIDER_ADDRESS],
                         replacing=force_new(), types=types)


def load_document() -> dict[str, Any]:
    """The schema named by ``SCHEMA_ENV``, else one derived from the installed bindings."""
    cached = os.environ.get(SCHEMA_ENV)
    if cached and Path(cached).is_file():
        return json.loads(Path(cached).read_text())
    return load_schema(None)


def main(argv: list[str] | None = None) -> None:
    """Serve the provider over go-plugin (Terraform reads the handshake from stdout)."""
    run_provider(OfflineOpenStackProvider(load_document()), argv or sys.argv)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()


def apply_plan_model(model: dict[str, Any], planned: dict[str, Any], config: Any) -> None:
    """Make a created resource's planned values what the real provider plans where its schema
    does not say (`generator/data/aws_plan.json`): defaults the provider fills in, values it
    leaves unknown, blocks it computes when they are not configured, values copied from another
    argument; each only where the configuration leaves the value null."""
    config = config if isinstance(config, dict) else {}
    for target, source in model.get("copy", {}).items():
        if config.get(target) is None:
            planned[target] = Unknown if planned.get(source) is None else planned.get(source)
    for path, value in model.get("defaults", {}).items():
        _fill(planned, config, path.split("."), value)
    for path in model.get("unknown", ()):
        _fill(planned, config, path.split("."), Unknown)
    for name in model.get("unknown_blocks", ()):
        if not config.get(name):
            planned[name] = Unknown


def _fill(planned: Any, config: Any, path: list[str], new: Any) -> None:
    """Set `path` (through nested blocks, every item of a list) to `new` where the configuration
    leaves it null."""
    if isinstance(planned, list):
        aligned = isinstance(config, list) and len(config) == len(planned)
        configured = config if aligned else [None] * len(planned)
        for item, item_config in zip(planned, configured, strict=True):
            _fill(item, item_config, path, new)
        return
    if not isinstance(planned, dict):
        return
    config = config if isinstance(config, dict) else {}
    head, rest = path[0], path[1:]
    if not rest:
        if head in planned and config.get(head) is None:
            planned[head] = new
        return
    _fill(planned.get(head), config.get(head), rest, new)


def modelled_servicer(provider: SchemaOnlyProvider, model: dict[str, Any]) -> Any:
    """A ``tf`` servicer whose create plans follow `model` (see `apply_plan_model`)."""
    from tf.provider import ProviderServicer
    from tf.utils import read_dynamic_value, to_dynamic_value

    resources = model.get("resources", {})
    required = model.get("provider", {}).get("required", {})

    class Modelled(ProviderServicer):
        def ConfigureProvider(self, request: Any, context: Any) -> Any:
            response = super().ConfigureProvider(request, context)
            config = read_dynamic_value(request.config) or {}
            for name, variables in required.items():
                if config.get(name) is None and not any(os.environ.get(v) for v in variables):
                    diags = Diagnostics()
                    diags.add_error(model["provider"].get("message", f"{name} is required"), "")
                    response.diagnostics.extend(diags.to_pb())
            return response

        def PlanResourceChange(self, request: Any, context: Any) -> Any:
            response = super().PlanResourceChange(request, context)
            rules = resources.get(request.type_name)
            if not rules or read_dynamic_value(request.prior_state) is not None:
                return response
            planned = read_dynamic_value(response.planned_state)
            if not isinstance(planned, dict):
                return response
            apply_plan_model(rules, planned, read_dynamic_value(request.config))
            # What the real (SDKv2) provider plans beyond its schema, Terraform accepts only from
            # a provider declaring the legacy type system, as that provider does.
            response.legacy_type_system = True
            response.planned_state.CopyFrom(to_dynamic_value(planned))
            return response

    return Modelled(provider)
