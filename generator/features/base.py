"""Baseline guest hardening every instance group gets: no passwords, no root login."""

from __future__ import annotations

from generator.render.cloudinit import Part
from generator.spec.model import InstanceGroup, Spec


def parts(spec: Spec, group: InstanceGroup) -> list[Part]:
    """SSH by individual key only (the keypair of the person who administers the group)."""
    return [Part(
        measure="ssh-keys-only",
        order=0,
        settings={"ssh_pwauth": False, "disable_root": True},
    )]
