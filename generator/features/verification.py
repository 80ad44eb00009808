"""The self-check on every instance (GDPR Art. 32(1)(d): regularly testing the measures).

``ssb-verify`` (ssb_guest/verify.py) runs from ``ssb-verify.timer`` five minutes after boot
and hourly: it checks each measure the instance's metadata claims that it has a check for and
writes one journal event per check, which travels with the other logs to the collector, where
``ssb-evidence`` keeps the latest result and the last success per instance and measure
(``generator/features/logging/guest.py`` installs it there). Every instance group gets the
same program and timer: what it checks is what the instance's metadata claims. Pure: text
out, no disk I/O.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import ssb_guest
from generator.render.cloudinit import Part, part_from
from generator.spec.model import InstanceGroup, Spec

PROGRAM = "/usr/local/sbin/ssb-verify"
UNIT_DIR = "/etc/systemd/system"
_UNITS = ("ssb-verify.service", "ssb-verify.timer")
PART = "self-check"  # the part's name in the merged cloud-init; not a metadata measure


@dataclass(frozen=True)
class VerifyConfig:
    """The program, its units and the commands that start its timer."""

    packages: tuple[str, ...]
    files: tuple[tuple[str, str, str], ...]  # (guest path, content, octal permissions)
    commands: tuple[tuple[str, ...], ...]


def verify_config() -> VerifyConfig:
    """The same on every instance: what it checks comes from the instance's own metadata."""
    files = [ssb_guest.program(PROGRAM)]
    files += [(f"{UNIT_DIR}/{unit}", ssb_guest.read(f"units/{unit}"), "0644") for unit in _UNITS]
    return VerifyConfig(
        packages=("python3",),
        files=tuple(files),
        commands=(("systemctl", "daemon-reload"),
                  ("systemctl", "enable", "--now", "ssb-verify.timer")),
    )


# Last: its timer starts after everything it checks is installed.
ORDER = 95


def parts(spec: Spec, group: InstanceGroup) -> list[Part]:
    """The self-check, the same on every group. It claims no measure of its own in the
    metadata (Nova's 255 characters are spoken for): its events are its evidence."""
    return [dataclasses.replace(part_from(PART, ORDER, verify_config()), claimed=False)]
