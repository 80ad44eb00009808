"""Capabilities: each turns part of the spec into guest configuration and network rules.

A capability module exposes `parts(spec, group) -> list[Part]` (cloud-init) and, where it
opens traffic, `rules(spec, group) -> dict[str, Rule]`. The blueprint asks every capability,
so adding one is adding a module to `CAPABILITIES`.
"""

from __future__ import annotations

from generator.capabilities import (
    backup,
    base,
    disk_encryption,
    egress,
    endpoints,
    logging,
    logins,
    network,
    verification,
)

CAPABILITIES = (base, logins, egress, disk_encryption, endpoints, backup, logging, verification)

__all__ = ["CAPABILITIES", "backup", "egress", "endpoints", "network"]
