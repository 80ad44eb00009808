"""Weakenings: what a spec turns off or lowers, the one list `generate` warns about and the
report counts.

Secure by default means a weakening is explicit in the spec. These are the weakenings spec v1
accepts (for personal data the rules reject the others: unencrypted volumes, `l2` flavors,
backups on the data's own site). Each names the control of the catalogue it takes away (off)
or weakens (lowered) and the spec line that does it, so the compliance report can show that
control as FAIL (off, personal data), NOT APPLICABLE (off, no personal data) or NOT EVIDENCED
(lowered: a person judges it), never as PASS. (The names of measures a resource carries are
another thing: generator/measures.py.)
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.spec.errors import Path, Problem
from generator.spec.load import Positions
from generator.spec.model import COLLECTOR_GROUP, Spec

ART_LOGGING = "GDPR Art. 5(1)(f), 32(1)(b)"
ART_ENCRYPTION = "GDPR Art. 32(1)(a)"
ART_RESILIENCE = "GDPR Art. 32(1)(b)"
ART_RESTORE = "GDPR Art. 32(1)(c)"
ART_REVIEW = "GDPR Art. 32(1)(d)"


@dataclass(frozen=True)
class Weakening:
    """A protection of a control that the spec turns off or lowers, and where it says so."""

    control: str  # a control id of generator/data/controls.yaml
    path: Path
    line: int
    column: int
    message: str
    article: str
    present: bool  # the key is written in the spec (else line/column locate its parent)
    # "off": the measure is left out (FAIL with personal data); "lowered": it is there but
    # weaker than this generator's default for the data, a choice a person must judge (the
    # control is NOT EVIDENCED, never PASS).
    level: str = "off"

    def problem(self) -> Problem:
        """As a located warning, the form `generate` prints."""
        return Problem(self.line, self.column, self.path, self.message, self.article)


def weakenings(spec: Spec, positions: Positions) -> tuple[Weakening, ...]:
    """Everything the spec turns off or lowers, in catalogue order of their controls."""
    out: list[Weakening] = []

    def off(control: str, path: Path, message: str, article: str, level: str = "off") -> None:
        line, column = positions.of(path)
        out.append(Weakening(control, path, line, column, message, article,
                              present=path in positions.values, level=level))

    if not spec.logging.central:
        off("GDPR-LOG-1", ("logging", "central"),
            "off: logs stay only on each instance, where whoever breaks in can "
            "rewrite them; no central collector keeps a copy", ART_LOGGING)
    if not spec.logging.intrusion_detection:
        off("GDPR-LOG-1", ("logging", "intrusion_detection"),
            "off: no auditd and no file-integrity checks (AIDE) on the instances, so "
            "an intrusion goes unnoticed", ART_LOGGING)

    for i, group in enumerate(spec.instances):
        for j, volume in enumerate(group.volumes):
            if volume.encryption != "luks-tang":
                off("GDPR-ENC-1", ("instances", i, "volumes", j, "encryption"),
                    f"none: volume {group.name}/{volume.name} is not encrypted inside the "
                    "instance; only the platform's disk encryption protects it",
                    ART_ENCRYPTION)
    if spec.logging.central and not spec.tang_servers:
        off("GDPR-ENC-1", ("encryption", "tang_servers"),
            f"not set, so the {COLLECTOR_GROUP}'s log volume is not encrypted inside the "
            "instance", ART_ENCRYPTION)

    if spec.special_categories:
        for i, endpoint in enumerate(spec.endpoints):
            if endpoint.min_tls == "1.2":
                off("GDPR-ENC-2", ("endpoints", i, "min_tls"),
                    f"\"1.2\" lowers the TLS 1.3 that endpoints of special categories of data "
                    f"get by default ({endpoint.hostname}): a person must decide that TLS 1.2 is "
                    "appropriate here", ART_ENCRYPTION, level="lowered")

    with_volumes = [g for g in spec.instances if g.volumes]
    if spec.backup is None:
        off("GDPR-BAK-1", ("backup",),
            "absent: nothing is backed up (backups are on by default only for personal data)",
            ART_RESTORE)
    elif not with_volumes:
        off("GDPR-BAK-1", ("backup",),
            "no instance group has data volumes, so no backup job is generated: what the "
            "instances keep on their boot disks is not backed up", ART_RESTORE)
    elif spec.backup_site is None:
        off("GDPR-BAK-1", ("backup_site",),
            "not set, so no backup job is generated", ART_RESTORE)
    elif spec.personal and spec.backup.lock_mode == "GOVERNANCE":
        off("GDPR-BAK-2", ("backup", "lock", "mode"),
            "GOVERNANCE: whoever holds the project's S3 keys, which every backed-up instance "
            "holds, can remove locked backup versions (with the bypass header), so whoever "
            "controls an instance can destroy its backups; COMPLIANCE is the default for "
            "personal data", ART_RESTORE)

    for i, group in enumerate(spec.instances):
        if group.storage != "central-3-copy":
            off("GDPR-RED-1", ("instances", i, "flavor"),
                f"{group.flavor} keeps a single local copy on the host's disk: what group "
                f"{group.name} stores is lost when that disk fails", ART_RESILIENCE)

    if spec.private_groups and spec.egress.proxy == "none":
        names = ", ".join(g.name for g in spec.private_groups)
        off("GDPR-EGR-1", ("egress", "proxy"),
            f"none: group(s) {names} on the private network get no egress proxy and keep "
            "outbound HTTP(S), DNS and NTP to any address, so nothing limits where their data "
            "can go", "GDPR Art. 32(1)(b), 44")

    if not spec.review_by:
        off("GDPR-REV-1", ("review_by",),
            "absent: nothing schedules the regular review of these measures", ART_REVIEW)
    return tuple(out)
