"""Synthetic specs of any size, for the scaling rows of the benchmark.

Each group looks like a tier of the example: `b2` instances with one `luks-tang` volume, SSH
from an admin network, and an `allow_from` on the group before it (a chain), so the security
group graph, the volume modules and the guest configuration all grow with the group count.
The spec is valid under the same date the benchmark validates against (`TODAY` in run.py).
"""

from __future__ import annotations

from pathlib import Path

FLAVORS = ("b2.c1r2", "b2.c2r4", "b2.c4r16")


def group_name(index: int) -> str:
    """`g0001`.. (the spec allows 16 characters; 5 are enough for 1,000 groups)."""
    return f"g{index:04d}"


def synthetic_spec(groups: int, *, instances_per_group: int = 1, schedule: str = "daily") -> str:
    """YAML text of a valid spec with `groups` instance groups (1..1000, the schema's limit)."""
    if not 1 <= groups <= 1000:
        raise ValueError(f"groups must be 1..1000 (the schema's maxItems), got {groups}")
    lines = [
        "version: 1",
        f"name: bench-{groups}",
        f"description: Synthetic benchmark spec with {groups} instance groups",
        "controller: Benchmark AB",
        "contact: dpo@example.se",
        "review_by: 2027-06-30",
        "data: {personal: true, special_categories: false, retention_days: 730}",
        "site: sto2",
        "backup_site: sto1",
        "encryption:",
        "  tang_servers: [https://tang1.example.se, https://tang2.example.se]",
        "access:",
        "  - {name: anna.svensson, kind: person, role: admin, expires: 2027-06-30}",
        "instances:",
    ]
    for i in range(1, groups + 1):
        lines += [
            f"  - name: {group_name(i)}",
            f"    count: {instances_per_group}",
            f"    flavor: {FLAVORS[i % len(FLAVORS)]}",
            "    image: ubuntu-24.04",
            "    network: private" if i > 1 else "    network: default",
            "    volumes:",
            f"      - {{name: data, size: {10 + i % 90}, type: fast, encryption: luks-tang}}",
            "    ssh_from: [192.0.2.0/24]",
        ]
        if i > 1:
            lines.append(f"    allow_from: [{{instance: {group_name(i - 1)}, port: {8000 + i % 1000}}}]")
    lines += [
        "endpoints:",
        f"  - {{name: portal, hostname: portal.example.se, instance: {group_name(1)}, "
        "backend_port: 8080}",
        "buckets:",
        "  - {name: exports, object_lock: {mode: GOVERNANCE, days: 30}, retention_days: 365}",
        "logging: {central: true, retention_days: 180, intrusion_detection: true}",
        f"backup: {{schedule: {schedule}, keep: {{{'hourly: 24, ' if schedule == 'hourly' else ''}"
        "daily: 7, weekly: 4, monthly: 12}}",
    ]
    return "\n".join(lines) + "\n"


def write_spec(groups: int, directory: Path, *, schedule: str = "daily") -> Path:
    """Write the synthetic spec of `groups` groups into `directory`; returns its path."""
    path = Path(directory) / f"bench-{groups}{'-' + schedule if schedule != 'daily' else ''}.yaml"
    path.write_text(synthetic_spec(groups, schedule=schedule), encoding="utf-8")
    return path


FIVE_GROUPS = 3
"""`check`'s benchmark spec: 3 groups of its own, the central log collector and the egress proxy
(its groups are on the private network) make five instance groups; backups are hourly."""
