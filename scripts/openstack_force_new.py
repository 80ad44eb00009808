"""Record what the real OpenStack provider's schema says that its bindings do not carry.

Reads the Go source of terraform-provider-openstack (the tag the schema-only provider is
served as) and writes, for every resource (and data source, for Sensitive), each top-level
argument whose schema says `FLAG: true`, with the file and line it says so in:
- generator/data/openstack_force_new.json (ForceNew): the offline provider
  (generator/terraform/provider.py) answers Terraform's plan with these, so Terraform core
  decides replace or update in place offline as it does against Safespring;
- generator/data/openstack_sensitive.json (Sensitive): the derived schema marks these
  sensitive (generator/terraform/schema.py), so Terraform redacts them in plans and marks them
  in state as the real provider would (an application credential's `secret`).

Run where the provider's source is at hand (this machine has no network in CI):
    git -C PROVIDER_REPO archive v3.0.0 openstack | tar -x -C SRC
    python scripts/openstack_force_new.py SRC COMMIT > generator/data/openstack_force_new.json
    python scripts/openstack_force_new.py SRC COMMIT Sensitive > generator/data/openstack_sensitive.json
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

_KEY = re.compile(r'^\s*"([a-z0-9_]+)":\s*\{')


def force_new(path: Path, flag: str = "ForceNew") -> dict[str, str]:
    """Top-level arguments of the schema in one Go file whose `flag` is true, with file:line."""
    pattern = re.compile(rf"^\s*{flag}:\s*true,")
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
        if depth == 2 and key and pattern.match(line):
            found[key] = f"openstack/{path.name}:{number}"
        depth += code.count("{") - code.count("}")
        if depth <= 0:
            break
    return found


MEANING = {
    "ForceNew": "argument -> where its schema says ForceNew: true (a change replaces the resource)",
    "Sensitive": "argument -> where its schema says Sensitive: true (redacted in plans, marked in state)",
}


def main(source: str, commit: str, flag: str = "ForceNew") -> None:
    kinds = ("resource",) if flag == "ForceNew" else ("resource", "data_source")
    found: dict[str, dict[str, dict[str, str]]] = {}
    for kind in kinds:
        entries = {}
        for path in sorted(Path(source, "openstack").glob(f"{kind}_openstack_*.go")):
            if path.name.endswith("_test.go"):
                continue
            flagged = force_new(path, flag)
            if flagged:
                entries[path.stem.removeprefix(f"{kind}_")] = flagged
        found[f"{kind}s"] = entries
    doc = {"source": "terraform-provider-openstack v3.0.0, "
                     f"github.com/terraform-provider-openstack/terraform-provider-openstack commit {commit}",
           "meaning": MEANING[flag], **found}
    print(json.dumps(doc, indent=1, sort_keys=True))


if __name__ == "__main__":
    main(*sys.argv[1:4])
