"""Capabilities: each turns part of the spec into guest configuration and network rules.

A capability module exposes `parts(spec, group) -> list[Part]` (cloud-init) and, where it
opens traffic, `rules(spec, group) -> dict[str, Rule]`. The blueprint asks every capability,
so adding one is adding a module to `CAPABILITIES`.
"""

from __future__ import annotations

from generator.capabilities import base, disk_encryption, endpoints, network

CAPABILITIES = (base, disk_encryption, endpoints)

__all__ = ["CAPABILITIES", "endpoints", "network"]
