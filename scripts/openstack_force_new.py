"""Record which top-level arguments of each OpenStack resource force a new resource.

Reads the Go source of terraform-provider-openstack (the tag the schema-only provider is
served as) and writes generator/data/openstack_force_new.json: for every resource, each
top-level argument whose schema says `ForceNew: true`, with the file and line it says so in.
The offline provider (generator/terraform/provider.py) answers Terraform's plan with these, so
Terraform core decides replace or update in place offline as it does against Safespring.

Run where the provider's source is at hand (this machine has no network in CI):
    git -C PROVIDER_REPO archive v3.0.0 openstack | tar -x -C SRC
    python scripts/openstack_force_new.py SRC COMMIT > generator/data/openstack_force_new.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

_KEY = re.compile(r'^\s*"([a-z0-9_]+)":\s*\{')
_FORCE_NEW = re.compile(r"^\s*ForceNew:\s*true,")


def force_new(path: Path) -> dict[str, str]:
    """Top-level ForceNew arguments of the resource schema in one Go file, with file:line."""
    lines = path.read_text("utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if "Schema: map[string]*schema.Schema{" in line), None)
    if start is None:
        return {}
    found: dict[str, str] = {}
    depth, key = 1, None
    for number, line in enumerate(lines[start + 1:], start + 2):
        code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line.split("//", 1)[0]) if "//" in line else \
            re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
        if depth == 1:
            m = _KEY.match(line)
            if m:
                key = m.group(1)
        if depth == 2 and key and _FORCE_NEW.match(line):
            found[key] = f"openstack/{path.name}:{number}"
        depth += code.count("{") - code.count("}")
        if depth <= 0:
            break
    return found


def main(source: str, commit: str) -> None:
    resources = {}
    for path in sorted(Path(source, "openstack").glob("resource_openstack_*.go")):
        if path.name.endswith("_test.go"):
            continue
        found = force_new(path)
        if found:
            resources[path.stem.removeprefix("resource_")] = found
    doc = {"source": "terraform-provider-openstack v3.0.0, "
                     f"github.com/terraform-provider-openstack/terraform-provider-openstack commit {commit}",
           "meaning": "argument -> where its schema says ForceNew: true (a change replaces the resource)",
           "resources": resources}
    print(json.dumps(doc, indent=1, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
