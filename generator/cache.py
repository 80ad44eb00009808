"""The one cache directory: the offline Terraform toolchain and the compiled templates."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SAFESPRING_BLUEPRINTS_CACHE"
"""Overrides the cache root (default ``$XDG_CACHE_HOME/safespring-blueprints`` or
``~/.cache/safespring-blueprints``)."""


def cache_root() -> Path:
    """Where the project keeps what it can rebuild; nothing in it is ever a source of truth."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "safespring-blueprints"
