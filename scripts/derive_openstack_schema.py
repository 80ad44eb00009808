"""Write the OpenStack provider 3.0.0 schema derived from the cdktf bindings as JSON.

Usage: python scripts/derive_openstack_schema.py [OUTPUT.json]   (default: stdout)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.terraform.schema import SchemaSourceMissing, derive_schema


def main(argv: list[str]) -> int:
    """Derive the schema; print it or write it to the given path."""
    try:
        text = json.dumps(derive_schema(), indent=2, sort_keys=True) + "\n"
    except SchemaSourceMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if len(argv) > 1:
        Path(argv[1]).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
