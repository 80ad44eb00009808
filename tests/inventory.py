"""Plan inventories in the style of Cloud Foundation Fabric: expected counts and values.

An inventory file lists, for a plan, how many resources of each type it creates and, for
chosen addresses, the attribute values that matter (a subset: unlisted attributes are free).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml


def planned_resources(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """address -> {type, values} for every managed resource in the plan, modules included."""
    out: dict[str, dict[str, Any]] = {}

    def walk(module: dict[str, Any]) -> None:
        for resource in module.get("resources", []):
            if resource.get("mode") == "managed":
                out[resource["address"]] = {"type": resource["type"],
                                            "values": resource.get("values", {})}
        for child in module.get("child_modules", []):
            walk(child)

    walk(plan.get("planned_values", {}).get("root_module", {}))
    return out


def counts(plan: dict[str, Any]) -> dict[str, int]:
    return dict(sorted(Counter(r["type"] for r in planned_resources(plan).values()).items()))


def _subset(expected: Any, actual: Any, path: str) -> list[str]:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a mapping, got {actual!r}"]
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += _subset(value, actual[key], f"{path}.{key}")
        return problems
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: expected {len(expected)} items, got {len(actual)}: {actual!r}"]
        return [p for i, (e, a) in enumerate(zip(expected, actual, strict=True))
                for p in _subset(e, a, f"{path}[{i}]")]
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]


def check(plan: dict[str, Any], inventory_file: Path) -> list[str]:
    """Every difference between the plan and its inventory, as readable lines."""
    inventory = yaml.safe_load(inventory_file.read_text("utf-8"))
    problems = []
    if counts(plan) != inventory["counts"]:
        problems.append(f"counts: expected {inventory['counts']}, got {counts(plan)}")
    resources = planned_resources(plan)
    for address, values in (inventory.get("values") or {}).items():
        if address not in resources:
            problems.append(f"{address}: not in the plan")
        else:
            problems += _subset(values, resources[address]["values"], address)
    return problems
