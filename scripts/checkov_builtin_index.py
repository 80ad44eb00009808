"""Write generator/data/checkov_builtin.json: which module of the installed Checkov holds each
built-in Terraform resource and data check, and which types it checks.

The scan imports only the built-in checks of the types it is given (generator/scan.py): importing
all ~1,000 of them is most of Checkov's import time. Run this after upgrading Checkov; a test
holds the file to the installed Checkov (tests/policies/test_checkov_import.py).

    .venv/bin/python scripts/checkov_builtin_index.py
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "generator" / "data" / "checkov_builtin.json"


def index() -> dict:
    """{"checkov": version, "resource"|"data": {module: [types]}} from Checkov's own registries."""
    import checkov.terraform  # noqa: F401  (its package imports every built-in check)
    from checkov.terraform.checks.data.registry import data_registry
    from checkov.terraform.checks.resource.registry import resource_registry

    out: dict = {"checkov": version("checkov")}
    for kind, registry in (("resource", resource_registry), ("data", data_registry)):
        modules: dict[str, set[str]] = {}
        for entity, checks in list(registry.checks.items()) + list(registry.wildcard_checks.items()):
            for check in checks:
                modules.setdefault(type(check).__module__, set()).add(entity)
        out[kind] = {m: sorted(t) for m, t in sorted(modules.items())}
    return out


def main() -> int:
    OUT.write_text(json.dumps(index(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
