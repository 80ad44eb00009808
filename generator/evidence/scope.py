"""One check's view of one block, the same in both scan modes.

A `Scope` holds the block's configuration as Checkov gives it, the scan graph, and in plan mode
the plan (generator/evidence/plan.py) and the .tf source it was made from
(generator/evidence/source.py). In plan mode the configuration is enriched: every attribute
Terraform knows only after apply becomes an Unresolved("after-apply") naming what it is computed
from, in place of the reference text Checkov puts there, so no check mistakes it for a value or
for an HCL leftover. Provider blocks, nested (dynamic) blocks and a rule's remote group are read
here for the same reason: each mode keeps them somewhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator.evidence import plan as plans
from generator.evidence.hcl import entity_file, graph_blocks, scan_root
from generator.evidence.source import blocks_in, resource_block, source_root
from generator.evidence.values import MISSING, Unresolved, attr, blocks, is_unresolved_text, unwrap


class Scope:
    """What a check looks at, in either mode: the block's configuration as Checkov gives it,
    the scan graph, and in plan mode the plan (its configuration section) and the .tf source.

    In plan mode `conf` is enriched: every attribute Terraform knows only after apply becomes
    an Unresolved("after-apply") naming what it is computed from, in place of the reference text
    Checkov puts there, so no check mistakes it for a value or for an HCL leftover.
    """

    def __init__(self, check: Any, conf: Mapping[str, Any]) -> None:
        self.check = check
        self.raw = conf
        self.entity_path = str(getattr(check, "entity_path", "") or "")
        self._nodes: list[dict[str, Any]] | None = None
        self.plan = plans.plan_of(dict(conf), self.entity_path,
                                          None if "__file__" in conf else self.nodes)
        address = unwrap(conf.get("__address__"))
        self.address = address if isinstance(address, str) else ""
        self.resource = self.plan.get(self.address) if self.plan else None
        self.conf = enrich(conf, self.plan, self.resource) if self.resource else dict(conf)

    @property
    def mode(self) -> str:
        return "plan" if self.plan is not None else "hcl"

    @property
    def nodes(self) -> list[dict[str, Any]]:
        if self._nodes is None:
            self._nodes = graph_blocks(getattr(self.check, "graph", None))
        return self._nodes

    @property
    def node(self) -> dict[str, Any] | None:
        """HCL mode: this resource's block in the scan graph (its address in its own file: a
        scan of several roots holds the same address more than once)."""
        relative = entity_file(self.entity_path)
        nodes = self.nodes
        root = scan_root(nodes, relative) if relative else None
        # A module outside the scanned directory is named "/../../x/main.tf": match its tail.
        tail = re.sub(r"^(/\.\.)+", "", relative) if root is None else ""
        for n in nodes:
            path = str(n.get("file_path_") or "")
            if n.get("block_type_") == "resource" and n.get("__address__") == self.address \
                    and (path == root + relative if root is not None else path.endswith(tail)):
                return n
        return None

    @property
    def source_root(self) -> Path | None:
        """The directory the plan was made from (a Path), None in HCL mode or when unknown."""
        return source_root(self.plan.path) if self.plan is not None else None

    def block(self, resource: Any = None) -> Any:
        """The .tf block of a plan resource (default: this one), None when the source is unknown."""
        res = resource or self.resource
        root = self.source_root
        if res is None or root is None or self.plan is None:
            return None
        return resource_block(root, self.plan, tuple(n for n, _ in res.modules), res.type, res.name,
                              res.mode)


def _mark_unknown(conf: dict[str, Any], unknown: Mapping[str, Any], refs: Any) -> None:
    for key, flag in unknown.items():
        if flag is True:
            found = refs(key)
            conf[key] = [Unresolved(", ".join(found) or "a value computed by the provider",
                                    "after-apply")]
        elif isinstance(flag, list) and isinstance(conf.get(key), list):
            items = conf[key]
            for i, inner in enumerate(flag):
                if isinstance(inner, dict) and i < len(items) and isinstance(items[i], dict):
                    items[i] = dict(items[i])
                    _mark_unknown(items[i], inner, lambda k, key=key, i=i: refs(f"{key}.{i}.{k}"))


def enrich(conf: Mapping[str, Any], plan: Any, resource: Any) -> dict[str, Any]:
    """A plan resource's conf with what Terraform knows only after apply marked Unresolved."""
    out = {k: (list(v) if isinstance(v, list) else v) for k, v in conf.items()}
    # Checkov puts a reference of the configuration where a planned value is null; Terraform
    # evaluated it to null (`try(x, null)`, a null input): it is absent, not unresolved.
    for key, value in resource.values.items():
        if value is None and resource.unknown.get(key) is not True:
            out[key] = [None]

    def refs(path: str) -> list[str]:
        steps = [int(p) if p.isdigit() else p for p in path.split(".")]
        return plan.references(resource, *steps)

    _mark_unknown(out, resource.unknown, refs)
    return out


def provider_key(address: str) -> str:
    """Checkov's provider address ("aws.default", "aws.backup") as the plan's configuration key
    ("aws", "aws.backup")."""
    name, _, alias = address.partition(".")
    return name if alias in ("", "default") else f"{name}.{alias}"


def provider_source_block(scope: Scope, key: str) -> Any:
    """The provider block of the root module with this configuration key, from the source."""
    root = scope.source_root
    if root is None:
        return None
    name, _, alias = key.partition(".")
    for block in blocks_in(root):
        if block.kind == "provider" and block.labels == (name,) and (block.raw("alias") or "") == alias:
            return block
    return None


def _from_expressions(expressions: Mapping[str, Any], scope: Scope, source: Any,
                      path: tuple[Any, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, expression in expressions.items():
        if isinstance(expression, list):
            out[name] = [_from_expressions(e, scope, source, (*path, name, i))
                         for i, e in enumerate(expression) if isinstance(e, Mapping)]
        elif isinstance(expression, Mapping) and "constant_value" in expression:
            out[name] = [expression["constant_value"]]
        elif isinstance(expression, Mapping):
            out[name] = [_provider_reference(scope, source, (*path, name), expression)]
    return out


def _provider_reference(scope: Scope, source: Any, path: tuple[Any, ...], expression: Mapping) -> Any:
    """A provider argument that is not a constant: a root variable's value when the source shows
    the argument is exactly `var.x`, else Unresolved."""
    refs = list(expression.get("references") or [])
    text = source.raw(*path) if source is not None else None
    m = re.fullmatch(r"\$\{var\.([A-Za-z0-9_-]+)\}", text.strip()) if isinstance(text, str) else None
    if m and scope.plan is not None and m.group(1) in scope.plan.variables:
        return scope.plan.variables[m.group(1)]
    shown = ", ".join(refs) or "an expression"
    why = "the plan records provider arguments only as constants or references"
    return Unresolved(f"{shown}: {why}", "not-in-plan")


def provider_configured(scope: Scope, key: str) -> bool:
    """Plan mode: whether the provider configuration `key` is one the root really has: written
    as a block (arguments in the plan, or the block in the .tf source) or used by a resource.
    Terraform lists an empty configuration for every provider the root requires, e.g. a bare
    `aws` next to the `aws.backup` a blueprint writes; that one configures nothing."""
    if scope.plan is None:
        return True
    entry = scope.plan.provider_configs().get(key)
    if entry is None:
        return False
    if entry.get("expressions") or key in scope.plan.used_provider_keys():
        return True
    return provider_source_block(scope, key) is not None


def provider_conf(scope: Scope, key: str | None = None) -> dict[str, Any]:
    """The provider block as a check reads it: Checkov's block in HCL mode; in plan mode rebuilt
    from the plan's `provider_config` (every argument and nested block, root variables resolved
    where the source shows the argument is exactly `var.x`). `key` picks another provider
    configuration of the plan ("aws", "aws.backup") than the block being checked."""
    if scope.plan is None:
        return dict(scope.conf)
    key = key or provider_key(scope.address)
    entry = scope.plan.provider_configs().get(key) or {}
    conf = _from_expressions(entry.get("expressions") or {}, scope, provider_source_block(scope, key), ())
    if "alias" in entry:
        conf["alias"] = [entry["alias"]]
    return conf


def nested_blocks(scope: Scope, name: str) -> list[dict[str, Any]] | Unresolved:
    """The `name` blocks of the resource as they will exist.

    Plan mode: the planned blocks (Terraform expanded every dynamic block). HCL mode: static
    blocks from the conf; a `dynamic "<name>"` block from the scan graph, which holds its
    evaluated `for_each` and content (the conf has it rendered once whatever its for_each):
    one block per for_each element with `<name>.value`/`<name>.key` substituted, none for an
    empty for_each, Unresolved when Checkov could not evaluate the for_each.
    """
    if scope.plan is not None:
        return blocks(scope.conf, name)
    node = scope.node
    dynamic = node.get("dynamic") if node else None
    entries = dynamic if isinstance(dynamic, list) else [dynamic] if isinstance(dynamic, Mapping) else []
    found = [e[name] for e in entries if isinstance(e, Mapping) and isinstance(e.get(name), Mapping)]
    if not found:
        return blocks(scope.conf, name)
    out: list[dict[str, Any]] = []
    for block in found:
        for_each = block.get("for_each")
        content = block.get("content") if isinstance(block.get("content"), Mapping) else {}
        if isinstance(for_each, Mapping):
            items = list(for_each.items())
        elif isinstance(for_each, list):
            items = list(enumerate(for_each))
        else:
            return Unresolved(f"dynamic \"{name}\" block, for_each {for_each}")
        for key, value in items:
            out.append({k: [_placeholder(v, name, key, value)] for k, v in content.items()})
    return out


def _placeholder(value: Any, name: str, key: Any, element: Any) -> Any:
    if value == f"{name}.value":
        return element
    if value == f"{name}.key":
        return key
    return value


_SECGROUP_ID = re.compile(r"^(module\.[A-Za-z0-9_-]+\.)*openstack_networking_secgroup_v2\.[A-Za-z0-9_-]+"
                          r"(\[[^\]]+\])?\.id$")


SECGROUP = "openstack_networking_secgroup_v2"


def remote_group(conf: Mapping[str, Any], scope: Scope | None = None) -> str | Unresolved | object:
    """`remote_group_id` as evidence: a literal id, or a reference to a security group
    resource's `.id` (Checkov leaves resource attributes as text; an id is never empty),
    MISSING, or Unresolved for anything else (a variable, a conditional).

    In plan mode an id known only after apply that Terraform computes from a security group
    resource (found through the plan's configuration, `var.x` followed up through module calls)
    is that group: the rule is a group rule. The address of the group is returned."""
    if "remote_group_id" not in conf:
        return MISSING
    value = unwrap(conf["remote_group_id"])
    if value is None:
        return MISSING
    if isinstance(value, Unresolved):
        if value.kind == "after-apply" and scope is not None and scope.resource is not None:
            refs = scope.plan.references(scope.resource, "remote_group_id")
            groups = scope.plan.targets(scope.resource, refs, rtype=SECGROUP)
            if groups:
                return groups[0].address
            if any(r.startswith(f"data.{SECGROUP}.") for r in refs):
                return next(r for r in refs if r.startswith(f"data.{SECGROUP}."))
        return value
    if isinstance(value, str) and _SECGROUP_ID.match(value.strip()):
        return value.strip()
    if isinstance(value, str) and value.startswith("try("):
        value = attr(conf, "remote_group_id")
        return value
    if is_unresolved_text(value):
        return Unresolved(value)
    return value
