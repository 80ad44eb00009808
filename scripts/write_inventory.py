"""Draft an expected-inventory file from an offline plan (review it before committing it).

    python scripts/write_inventory.py DIR NAME [ADDRESS ...]

Writes tests/fixtures/inventories/NAME.yaml with the resource counts and, for each ADDRESS
given, the planned values that are known at plan time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from generator import api
from tests import inventory


def _pruned(value: object) -> object:
    """Drop nulls and empty collections inside a value (lists keep their length)."""
    if isinstance(value, dict):
        return {k: _pruned(v) for k, v in value.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def main(argv: list[str]) -> int:
    directory, name, *addresses = argv
    checks, plan = api.plan(directory, offline=True, variables={"key_pair": "offline-test"})
    if not checks.ok:
        print("\n".join(s.output for s in checks.steps), file=sys.stderr)
        return 1
    resources = inventory.planned_resources(plan)
    # Long strings (user data) and the offline image placeholder id carry no meaning here.
    values = {a: _pruned({k: v for k, v in resources[a]["values"].items()
                          if not (isinstance(v, str) and len(v) > 200) and k != "image_id"})
              for a in addresses}
    body = {"counts": inventory.counts(plan), "values": values}
    out = Path("tests/fixtures/inventories") / f"{name}.yaml"
    out.write_text(yaml.safe_dump(body, sort_keys=True, width=100))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
