"""Evidence from Terraform's own plan (`terraform show -json`), for checks scanning a plan file.

In plan mode Checkov hands a check the planned values of one resource instance (variables,
`try()`, `for_each`, modules and locals already evaluated by Terraform). What the planned values
cannot say, the plan's `configuration` section often can, and the checks read it from here:

* A value known only after apply is absent from the planned values (Checkov puts the first
  reference of its expression in its place). The configuration still names what it comes from:
  a `remote_group_id` that references a security group resource is a group rule, a companion's
  `bucket` that references an `aws_s3_bucket` configures that bucket. References to `var.x` are
  followed up through the module calls' arguments; `each.key`, `count.index` and `each.value`
  of a `for_each` over a resource tie an instance to the instance with the same key.
* Provider configuration is not in the planned values at all, and Checkov keeps only constant
  top-level arguments of it (no `endpoints` block): the configuration's `provider_config` has
  every argument, and root variables' values are in the plan's `variables`.
* The resource instance's provider (`provider_config_key`), which Terraform resolved through
  every module call's `providers` mapping.

What the configuration does not hold (locals, dynamic blocks, the text of expressions such as
`file()` names or a `jsonencode()` policy that contains an unknown ARN, the backend) is read from
the .tf files (generator/evidence/source.py) when the scan knows where they are.

The file is loaded once per path, size and modification time.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from generator.evidence.values import MISSING, Unresolved

# module.<name>[<key>] parts of an address, then [data.]<type>.<name>[<key>]
_MODULE_PART = re.compile(r'module\.([A-Za-z0-9_-]+)(\[(?:[0-9]+|"(?:[^"\\]|\\.)*")\])?\.')
_KEY = r'(\[(?:[0-9]+|"(?:[^"\\]|\\.)*")\])'
_RESOURCE_PART = re.compile(rf'^(data\.)?([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+){_KEY}?$')
# A reference to a resource (relative to a module): type.name, optional [index], optional .attr
_REFERENCE = re.compile(r'^(?P<type>(?:aws|openstack)_[a-z0-9_]+)\.(?P<name>[A-Za-z0-9_-]+)'
                        r'(?P<key>\[(?:[0-9]+|"(?:[^"\\]|\\.)*")\])?(?:\.(?P<attr>[A-Za-z0-9_]+))?')


def parse_key(text: str | None) -> int | str | None:
    """`[0]` -> 0, `["a"]` -> "a", None -> None."""
    if not text:
        return None
    inner = text[1:-1]
    if inner.startswith('"'):
        return json.loads(inner)
    return int(inner)


def split_address(address: str) -> tuple[tuple[tuple[str, Any], ...], str, str, Any, str]:
    """module path ((name, key), ...), type, name, key, mode ("managed" | "data")."""
    modules: list[tuple[str, Any]] = []
    rest = address
    while True:
        m = _MODULE_PART.match(rest)
        if not m:
            break
        modules.append((m.group(1), parse_key(m.group(2))))
        rest = rest[m.end():]
    r = _RESOURCE_PART.match(rest)
    if not r:
        return tuple(modules), "", rest, None, "managed"
    return (tuple(modules), r.group(2), r.group(3), parse_key(r.group(4)),
            "data" if r.group(1) else "managed")


def format_key(key: Any) -> str:
    if key is None:
        return ""
    return f"[{key}]" if isinstance(key, int) else f"[{json.dumps(key)}]"


def module_address(modules: tuple[tuple[str, Any], ...]) -> str:
    """`module.a["x"].module.b` ("" for the root module)."""
    return ".".join(f"module.{name}{format_key(key)}" for name, key in modules)


@dataclass(frozen=True)
class PlanResource:
    """One resource instance of the plan with its configuration."""

    address: str
    modules: tuple[tuple[str, Any], ...]
    type: str
    name: str
    key: Any
    mode: str
    values: dict[str, Any]
    unknown: dict[str, Any]
    expressions: dict[str, Any]
    provider_key: str
    count_or_for_each: dict[str, Any] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return module_address(self.modules)

    @property
    def group(self) -> str:
        """The address with every instance key removed: one resource block's instances."""
        parts = [f"module.{name}" for name, _ in self.modules] + [f"{self.type}.{self.name}"]
        return ".".join(parts)

    def is_unknown(self, attribute: str) -> bool:
        """True when Terraform knows the attribute only after apply."""
        return self.unknown.get(attribute) is True


class Plan:
    """A parsed plan JSON with an index of resource instances and module configuration."""

    def __init__(self, doc: dict[str, Any], path: str) -> None:
        self.doc = doc
        self.path = path
        self.resources: dict[str, PlanResource] = {}
        changes = {c.get("address"): c.get("change") or {} for c in doc.get("resource_changes") or []}
        root = (doc.get("planned_values") or {}).get("root_module") or {}
        self._collect(root, changes)
        self.variables = {k: (v or {}).get("value") for k, v in (doc.get("variables") or {}).items()}

    # ---- index -----------------------------------------------------------------------------

    def _collect(self, module: dict[str, Any], changes: dict[str, Any]) -> None:
        for res in module.get("resources") or []:
            address = res.get("address", "")
            modules, rtype, name, key, mode = split_address(address)
            config = self.resource_config(tuple(n for n, _ in modules), rtype, name, mode)
            change = changes.get(address) or {}
            unknown = change.get("after_unknown") if isinstance(change.get("after_unknown"), dict) else {}
            self.resources[address] = PlanResource(
                address=address, modules=modules, type=rtype, name=name, key=key, mode=mode,
                values=res.get("values") or {}, unknown=unknown or {},
                expressions=config.get("expressions") or {},
                provider_key=str(config.get("provider_config_key") or ""),
                count_or_for_each={k: config[k] for k in ("count_expression", "for_each_expression")
                                   if k in config})
        for child in module.get("child_modules") or []:
            self._collect(child, changes)

    def module_config(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The configuration of the module reached through the calls `names` ({} if unknown)."""
        config = (self.doc.get("configuration") or {}).get("root_module") or {}
        for name in names:
            call = (config.get("module_calls") or {}).get(name) or {}
            config = call.get("module") or {}
        return config

    def module_call(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The call (source, expressions, count/for_each) of the last module in `names`."""
        if not names:
            return {}
        parent = self.module_config(names[:-1])
        return (parent.get("module_calls") or {}).get(names[-1]) or {}

    def resource_config(self, names: tuple[str, ...], rtype: str, name: str, mode: str = "managed") -> dict:
        for res in self.module_config(names).get("resources") or []:
            if res.get("type") == rtype and res.get("name") == name and res.get("mode", "managed") == mode:
                return res
        return {}

    def of_type(self, *types: str) -> list[PlanResource]:
        return [r for r in self.resources.values() if r.type in types and r.mode == "managed"]

    def get(self, address: str) -> PlanResource | None:
        return self.resources.get(address)

    def in_module(self, modules: tuple[tuple[str, Any], ...], rtype: str, name: str) -> list[PlanResource]:
        """Instances of `rtype.name` in exactly that module instance."""
        return [r for r in self.resources.values()
                if r.modules == modules and r.type == rtype and r.name == name and r.mode == "managed"]

    # ---- providers -------------------------------------------------------------------------

    def provider_configs(self) -> dict[str, dict[str, Any]]:
        return (self.doc.get("configuration") or {}).get("provider_config") or {}

    def used_provider_keys(self) -> set[str]:
        """The provider configuration keys resources of the plan are created or read with."""
        return {r.provider_key for r in self.resources.values() if r.provider_key}

    def provider_value(self, key: str, *path: str | int) -> Any:
        """A provider argument by its configuration key ("aws.backup") and path
        ("endpoints", 0, "s3"): the value, MISSING, or Unresolved."""
        node: Any = (self.provider_configs().get(key) or {}).get("expressions") or {}
        for step in path:
            if isinstance(step, int):
                if not isinstance(node, list) or len(node) <= step:
                    return MISSING
            elif not isinstance(node, dict) or step not in node:
                return MISSING
            node = node[step]
        return self.expression_value(node) if isinstance(node, dict) else Unresolved(node)

    def expression_value(self, expression: dict[str, Any]) -> Any:
        """A configuration expression's value when it is a constant, else Unresolved naming what
        it refers to (the plan records no other expression values of a configuration)."""
        if "constant_value" in expression:
            value = expression["constant_value"]
            return MISSING if value is None else value
        refs = expression.get("references") or []
        return Unresolved(", ".join(refs) or "an expression the plan does not record")

    # ---- references ------------------------------------------------------------------------

    def references(self, res: PlanResource, *path: str | int) -> list[str]:
        """References of an attribute's expression (a path into nested blocks), [] if constant."""
        node: Any = res.expressions
        for step in path:
            if isinstance(step, int):
                node = node[step] if isinstance(node, list) and len(node) > step else None
            else:
                node = node.get(step) if isinstance(node, dict) else None
            if node is None:
                return []
        return list(node.get("references") or []) if isinstance(node, dict) else []

    def targets(self, res: PlanResource, refs: list[str], *, rtype: str | None = None,
                depth: int = 6) -> list[PlanResource]:
        """Resource instances the references point at, following `var.x` up through module
        calls and tying `each.key`/`count.index`/`each.value` to the matching instance."""
        return _targets(self, res.modules, res.key, refs, rtype, res.count_or_for_each, depth)


def _targets(plan: Plan, modules: tuple[tuple[str, Any], ...], key: Any, refs: list[str],
             rtype: str | None, iteration: dict[str, Any], depth: int) -> list[PlanResource]:
    found: dict[str, PlanResource] = {}
    same_key = any(r in ("each.key", "count.index") for r in refs)
    for ref in refs:
        if ref.startswith("var.") and modules and depth > 0:
            name = ref.split(".")[1].split("[")[0]
            names = tuple(n for n, _ in modules)
            call = plan.module_call(names)
            argument = (call.get("expressions") or {}).get(name)
            parent_refs = list((argument or {}).get("references") or []) if isinstance(argument, dict) else []
            iteration_up = {k: call[k] for k in ("count_expression", "for_each_expression") if k in call}
            up = _targets(plan, modules[:-1], modules[-1][1], parent_refs, rtype, iteration_up, depth - 1)
            for t in up:
                found[t.address] = t
            continue
        if ref.startswith("each.value") and "for_each_expression" in iteration:
            upstream = list(iteration["for_each_expression"].get("references") or [])
            for t in _targets(plan, modules, key, upstream, rtype, {}, depth - 1):
                if t.key == key:
                    found[t.address] = t
            continue
        m = _REFERENCE.match(ref)
        if not m or (rtype and m.group("type") != rtype):
            continue
        candidates = plan.in_module(modules, m.group("type"), m.group("name"))
        explicit = parse_key(m.group("key"))
        if explicit is not None:
            candidates = [c for c in candidates if c.key == explicit]
        elif len(candidates) > 1 and same_key and any(c.key == key for c in candidates):
            # this[each.key] / this[count.index]: the instance with the referrer's own key.
            candidates = [c for c in candidates if c.key == key]
        # Otherwise (an index from each.value.x or a variable) every instance is a candidate.
        for c in candidates:
            found[c.address] = c
    return list(found.values())


@lru_cache(maxsize=8)
def _load(path: str, mtime_ns: int, size: int) -> Plan:
    with open(path, encoding="utf-8") as handle:
        return Plan(json.load(handle), path)


def load(path: str) -> Plan | None:
    """The plan in `path` (cached), None when it is not a readable plan JSON."""
    try:
        stat = os.stat(path)
        plan = _load(path, stat.st_mtime_ns, stat.st_size)
    except (OSError, ValueError):
        return None
    return plan if "planned_values" in plan.doc or "configuration" in plan.doc else None


def plan_of(conf: dict[str, Any], entity_path: str = "", graph_nodes: list[dict[str, Any]] | None = None
            ) -> Plan | None:
    """The plan a check is scanning, or None in HCL mode.

    Checkov's plan runner puts the plan's absolute path into every resource's `__file__`;
    provider blocks carry none, so the graph's file paths (the plan, in plan mode) are used.
    """
    found = conf.get("__file__")
    while isinstance(found, list) and found:
        found = found[0]
    if isinstance(found, str) and found.endswith(".json"):
        return load(found)
    relative = entity_path.split(":", 1)[0]
    if not relative.endswith(".json"):
        return None
    for node in graph_nodes or []:
        path = str(node.get("file_path_") or "")
        if path.endswith(".json") and path.endswith(relative):
            return load(path)
    return None
