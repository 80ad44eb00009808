"""Write the Safespring facts of generator/data/platform.yaml where users read them: the
`site`, `flavor` and `image` enums of the published JSON Schema (editors complete them, and
their messages list the valid values) and the lists in docs/spec.md.

    python scripts/sync_platform.py          # rewrite both from platform.yaml
    python scripts/sync_platform.py --check  # exit 1 when either is out of date (a test does this)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from generator.platform import Platform, platform

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "generator" / "spec" / "schema.json"
DOCS = ROOT / "docs" / "spec.md"
BEGIN = "<!-- platform: written by scripts/sync_platform.py from generator/data/platform.yaml -->"
END = "<!-- platform: end -->"

STORAGE = {"central-3-copy": "central block storage, three copies",
           "local-single-copy": "local NVMe disk, one copy: lost if that disk fails"}
SHORT = {"central-3-copy": "central storage", "local-single-copy": "local disk"}
BOOT = {"volume": "boots from a volume", "image": "boots from the image on its local disk"}


def _platform() -> Platform:
    return platform()


def _pattern(family: str, facts: dict) -> str:
    return f"{family}.<size>" + (".<disk>" if facts["disks"] else "")


def _flavor_message(p: Platform) -> str:
    families = p.flavor_families
    names = " and ".join(f"{_pattern(n, f)} ({SHORT.get(f['storage'], f['storage'])})"
                         for n, f in families.items())
    sizes = {tuple(f["sizes"]) for f in families.values()}
    if len(sizes) == 1:
        parts = [f"size {', '.join(next(iter(sizes)))}"]
    else:
        parts = [f"{n} size {', '.join(f['sizes'])}" for n, f in families.items()]
    parts += [f"{n} disk {', '.join(str(d) for d in f['disks'])}"
              for n, f in families.items() if f["disks"]]
    return f"unknown flavor {{value}} on Safespring{{hint}}; flavors are {names}; " + "; ".join(parts)


def schema_defs() -> dict[str, dict]:
    """The `$defs` entries written from platform.yaml, in the order they appear."""
    p = _platform()
    return {
        "site": {"enum": list(p.sites)},
        "flavor": {"enum": list(p.flavors), "x-messages": {"enum": _flavor_message(p)}},
        "image": {"enum": list(p.images), "x-messages": {"enum": (
            "unknown image {value} on Safespring{hint}; images are " + ", ".join(p.images))}},
    }


def synced_schema(text: str) -> str:
    """`text` (schema.json) with each of those `$defs` entries on its own line, rewritten."""
    at = text.index('\n  "$defs": {')
    head, defs = text[:at], text[at:]
    for name, body in schema_defs().items():
        line = f'    "{name}": {json.dumps(body, ensure_ascii=False)}'
        pattern = re.compile(rf'^    "{name}": \{{.*\}}(,?)$', re.M)
        if len(pattern.findall(defs)) != 1:
            raise SystemExit(f"{SCHEMA}: expected one one-line $defs entry {name!r}")
        defs = pattern.sub(lambda m, line=line: line + m.group(1), defs)
    return head + defs


def _code(values: list[str] | tuple[str, ...]) -> str:
    return ", ".join(f"`{v}`" for v in values)


def docs_block() -> str:
    """The part of docs/spec.md that lists sites, flavors and images."""
    p = _platform()
    lines = [BEGIN, "", "| site | where | Keystone (`clouds.yaml`) | Safespring Storage |",
             "|---|---|---|---|"]
    lines += [f"| `{s.name}` | {s.city}, {s.country} | `{s.auth_url}` | `{s.s3_endpoint}` |"
              for s in p.sites.values()]
    lines += ["", "| flavor | storage | sizes | disks (GB) |", "|---|---|---|---|"]
    for name, facts in p.flavor_families.items():
        storage = f"{STORAGE.get(facts['storage'], facts['storage'])}; " \
                  f"{BOOT.get(facts['boot'], facts['boot'])}"
        disks = ", ".join(f"`{d}`" for d in facts["disks"]) or "none"
        lines.append(f"| `{_pattern(name, facts)}` | {storage} | {_code(facts['sizes'])} | "
                     f"{disks} |")
    lines += ["", f"Images: {_code(p.images)}. The guest configuration (LUKS with Tang, log "
              f"shipping, the TLS proxy, backups) is written for {_code(p.guest_images)}; the "
              "others only for groups that need none of it. The test suite boots it on "
              f"{_code(p.guest_images_booted)} (QEMU, `tests/vm`); the Ubuntu images are checked "
              "statically only (their Python version), as Ubuntu's archive cannot be reached "
              "from the test machines.", "",
              f"Volume types: {_code(p.volume_types)}. Networks: {_code(p.networks)}.", "", END]
    return "\n".join(lines)


def synced_docs(text: str) -> str:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{DOCS}: the markers of the platform lists are missing")
    return text[:start] + docs_block() + text[end + len(END):]


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    stale = []
    for path, sync in ((SCHEMA, synced_schema), (DOCS, synced_docs)):
        text = path.read_text("utf-8")
        new = sync(text)
        if new != text:
            stale.append(path)
            if not check:
                path.write_text(new, "utf-8")
    for path in stale:
        print(f"{path.relative_to(ROOT)}: {'out of date' if check else 'rewritten'} "
              "(from generator/data/platform.yaml)", file=sys.stderr)
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
