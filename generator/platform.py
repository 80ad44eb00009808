"""Safespring platform facts as data, loaded once from `data/platform.yaml`.

The spec rules, the renderer and the policy pack all read these facts from here, so a new
site or flavor is one edit in one data file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Site:
    """One Safespring site: a separate OpenStack installation with its own S3 endpoint."""

    name: str
    city: str
    country: str
    auth_url: str
    s3_endpoint: str


@dataclass(frozen=True)
class Platform:
    """What a blueprint may use on Safespring."""

    sites: dict[str, Site]
    flavor_families: dict[str, dict]
    images: tuple[str, ...]
    guest_images: tuple[str, ...]
    guest_images_booted: tuple[str, ...]  # proven in the VM suite
    volume_types: tuple[str, ...]
    networks: tuple[str, ...]
    min_boot_volume_gb: int
    max_access_days: int
    default_users: dict[str, str]  # image -> the user the OpenStack key pair logs in as
    reserved_logins: frozenset[str]

    @property
    def flavors(self) -> tuple[str, ...]:
        """Every flavor name, e.g. `b2.c2r4` and `l2.c2r4.100`."""
        names: list[str] = []
        for family, facts in self.flavor_families.items():
            for size in facts["sizes"]:
                if facts["disks"]:
                    names.extend(f"{family}.{size}.{disk}" for disk in facts["disks"])
                else:
                    names.append(f"{family}.{size}")
        return tuple(names)

    def flavor_family(self, flavor: str) -> dict:
        """The facts of a flavor's family (`b2` boots from central 3-copy storage)."""
        return self.flavor_families[flavor.split(".", 1)[0]]


@cache
def platform() -> Platform:
    """Load the platform facts (cached: they never change during a run)."""
    text = resources.files("generator").joinpath("data/platform.yaml").read_text("utf-8")
    # Package data, trusted and without positions to keep: libyaml (~15x faster).
    raw = yaml.load(text, Loader=yaml.CSafeLoader)
    return Platform(
        sites={name: Site(name=name, **facts) for name, facts in raw["sites"].items()},
        flavor_families=raw["flavors"],
        images=tuple(raw["images"]),
        guest_images=tuple(raw["guest_images"]),
        guest_images_booted=tuple(raw["guest_images_booted"]),
        volume_types=tuple(raw["volume_types"]),
        networks=tuple(raw["networks"]),
        min_boot_volume_gb=raw["min_boot_volume_gb"],
        max_access_days=raw["max_access_days"],
        default_users=dict(raw["default_users"]),
        reserved_logins=frozenset(raw["reserved_logins"]),
    )
