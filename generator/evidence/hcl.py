"""HCL mode's scan graph: what one block cannot show about the blocks around it.

Some evidence spans blocks Checkov hands a check one at a time (a backup provider against the
data provider, a module call against the resources it renders, the `terraform` block, which no
check type receives at all). Checkov 3.3.30 sets `check.graph` (a rustworkx PyDiGraph whose
nodes are (index, attributes) pairs) before each check runs; every block of the scan is a
node: `block_type_` (resource, provider, module, terraform, ...), `file_path_` (absolute),
`config_` (the block as a check would receive it, under its type and name),
`source_module_object_` (the module call that rendered it, for module resources).
Helpers return nothing when the graph is missing or of another kind; checks say so then.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


def graph_blocks(graph: Any) -> list[dict[str, Any]]:
    """Attribute dicts of every block in Checkov's graph (rustworkx or networkx), [] if none."""
    if graph is None or not hasattr(graph, "nodes"):
        return []
    try:
        nodes = list(graph.nodes(data=True))  # networkx: (id, data)
    except TypeError:
        nodes = list(graph.nodes())  # rustworkx: (index, data)
    return [dict(node[1]) for node in nodes
            if isinstance(node, tuple) and len(node) == 2 and isinstance(node[1], Mapping)]


def entity_file(entity_path: str) -> str:
    """The scanned file of `check.entity_path` ("/dir/file.tf:type:name"), relative to the root."""
    return entity_path.split(":", 1)[0]


def scan_root(graph_nodes: list[dict[str, Any]], relative_file: str) -> str | None:
    """Absolute directory Checkov scanned: the prefix that turns `relative_file` into a block's
    file path; of several, the one most blocks live under (modules may lie outside it)."""

    paths = {str(n.get("file_path_") or "") for n in graph_nodes} - {""}
    if not relative_file.startswith("/"):
        relative_file = "/" + relative_file
    candidates = {p[: -len(relative_file)] for p in paths if p.endswith(relative_file)}
    if not candidates:
        return None
    return max(sorted(candidates, key=len),
               key=lambda root: sum(p.startswith(root + os.sep) for p in paths))


def block_config(node: Mapping[str, Any]) -> dict[str, Any]:
    """The block as a check receives it (`config_` without its type/name wrapping)."""
    config = node.get("config_")
    if not isinstance(config, Mapping):
        return {}
    block_type = node.get("block_type_")
    if block_type in ("terraform",):
        return dict(config)
    name = str(node.get("block_name_") or "")
    if block_type == "provider":
        inner = config.get(name.split(".", 1)[0])
        return dict(inner) if isinstance(inner, Mapping) else {}
    if block_type in ("resource", "data"):
        rtype, _, rname = name.partition(".")
        inner = config.get(rtype, {})
        inner = inner.get(rname) if isinstance(inner, Mapping) else None
        return dict(inner) if isinstance(inner, Mapping) else {}
    inner = config.get(name)
    return dict(inner) if isinstance(inner, Mapping) else {}


def root_module_blocks(graph_nodes: list[dict[str, Any]], directory: str,
                       block_type: str) -> list[dict[str, Any]]:
    """Blocks of one type written in the .tf files of `directory` itself (a root module), not
    copies rendered for a module call."""

    return [n for n in graph_nodes
            if n.get("block_type_") == block_type
            and os.path.dirname(str(n.get("file_path_") or "")) == directory
            and not n.get("source_module_object_")
            and not (n.get("rendering_breadcrumbs_") or {}).get("source_module_")]


def module_call_resources(graph_nodes: list[dict[str, Any]], caller_file: str,
                          call: str) -> list[dict[str, Any]]:
    """Resources rendered for the module call `call` written in `caller_file` (every instance)."""
    out = []
    for n in graph_nodes:
        source = n.get("source_module_object_")
        if n.get("block_type_") != "resource" or source is None:
            continue
        if getattr(source, "path", None) == caller_file and getattr(source, "name", None) == call \
                and getattr(source, "nested_tf_module", None) is None:
            out.append(n)
    return out


def deployment_dir(node: dict[str, Any]) -> str:
    """HCL mode: the directory of the root module a graph block belongs to (the outermost
    module call's file)."""
    source = node.get("source_module_object_")
    path = str(node.get("file_path_") or "")
    while source is not None:
        path = str(getattr(source, "path", path))
        source = getattr(source, "nested_tf_module", None)
    return os.path.dirname(path)


def module_call_conf(nodes: list[dict[str, Any]], source: Any) -> dict[str, Any] | None:
    """The block of the module call a graph node's `source_module_object_` names."""
    path, name = getattr(source, "path", None), getattr(source, "name", None)
    for node in nodes:
        if node.get("block_type_") == "module" and node.get("file_path_") == path \
                and str(node.get("block_name_", "")).split("[")[0] == name:
            return block_config(node)
    return None
