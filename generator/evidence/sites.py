"""Where a provider sends data: a Safespring site, another place whose country is known, or
unknown (and then what to declare).

Read from the provider arguments as a check sees them (generator/evidence/scope.py
`provider_conf`), against the platform facts (generator/data/platform.yaml: Safespring's sites
and their countries) and generator/data/destinations.yaml (the EU/EEA, the other hosts and the
AWS regions whose country a public source states). Nothing is guessed from a name: a cloud taken
from clouds.yaml or the environment is unknown.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlparse

import yaml

from generator.evidence.values import MISSING, Unresolved, attr, blocks
from generator.platform import platform

SAFESPRING_DOMAIN = ".safedc.net"
# Names reserved for documentation and tests (RFC 2606, RFC 6761): no provider is there.
_RESERVED = ("example", "test", "invalid", "localhost", "example.com", "example.net", "example.org")
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.?")


@dataclass(frozen=True)
class Destination:
    """Where a provider configuration sends data, as far as its arguments show."""

    what: str  # what the provider points at, in words ("auth_url https://...", "AWS region us-east-1")
    country: str | None  # ISO 3166-1 alpha-2, None when unknown
    safespring: bool | None  # a Safespring site; None when unknown
    site: str | None = None  # the Safespring site, when known
    declare: str = ""  # when unknown: what would make it known

    @property
    def in_eea(self) -> bool | None:
        """True in the EU/EEA, False in a third country, None when unknown."""
        if self.country is None:
            if self.safespring:  # a Safespring host of no known site: every site is in the EEA
                return all(s.country in _data()["eea"] for s in platform().sites.values())
            return None
        return self.country in _data()["eea"]


@cache
def _data() -> dict[str, Any]:
    text = resources.files("generator").joinpath("data/destinations.yaml").read_text("utf-8")
    raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return {"eea": frozenset(str(c) for c in raw["eea"]), "hosts": tuple(raw.get("hosts") or ()),
            "aws_regions": {str(k): str(v) for k, v in (raw.get("aws_regions") or {}).items()}}


def site_of_s3_endpoint(endpoint: Any) -> str | None:
    """The Safespring site whose S3 endpoint this is (exactly, trailing slash aside), else None."""
    if not isinstance(endpoint, str):
        return None
    for name, site in platform().sites.items():
        if endpoint.rstrip("/") == site.s3_endpoint.rstrip("/"):
            return name
    return None


def site_of_openstack(conf: Mapping[str, Any]) -> str | None:
    """The Safespring site an openstack provider block points at (cloud safespring-<site>, or an
    auth_url whose host is the site's), else None."""
    sites = platform().sites
    cloud = attr(conf, "cloud")
    if isinstance(cloud, str) and cloud.startswith("safespring-") and cloud[len("safespring-"):] in sites:
        return cloud[len("safespring-"):]
    url = attr(conf, "auth_url")
    if isinstance(url, str):
        host = urlparse(url).hostname
        for name, site in sites.items():
            if host and host == urlparse(site.auth_url).hostname:
                return name
    return None


def placeholder(host: str) -> bool:
    """A host no provider can be at: not a host name or address (`<your-keystone>`,
    `YOUR_AUTH_URL`), or a name reserved for examples. Example code that leaves the site to its
    user says nothing about where data goes."""
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    if not _HOST_NAME.fullmatch(host):
        return True
    name = host.rstrip(".")
    return any(name == r or name.endswith(f".{r}") for r in _RESERVED)


def _of_host(url: str, what: str) -> Destination:
    """The destination of an endpoint URL (or bare host name)."""
    try:
        host = (urlparse(url if "//" in url else f"https://{url}").hostname or "").lower()
    except ValueError:  # an unparsable authority ("https://[not-an-address]")
        host = ""
    if placeholder(host):
        return Destination(what, None, None, declare=(
            f"{url} is a placeholder, not a place: the site is chosen where this code is used; "
            "set the real auth_url or endpoint (or cloud = \"safespring-<site>\")"))
    if host.endswith(SAFESPRING_DOMAIN):
        for name, site in platform().sites.items():
            if host in (urlparse(site.auth_url).hostname, urlparse(site.s3_endpoint).hostname):
                return Destination(what, site.country, True, name)
        return Destination(what, None, True)  # a Safespring host of no site this project knows
    for entry in _data()["hosts"]:
        if host.endswith(str(entry["suffix"])):
            return Destination(f"{what} ({entry['who']})", str(entry["country"]), False)
    return Destination(what, None, False, declare=(
        f"{host or url} is not a site this scan can place (generator/data/destinations.yaml): "
        "skip the check with the site's country written as the reason"))


def openstack_destination(conf: Mapping[str, Any]) -> Destination | Unresolved:
    """Where an openstack provider block sends data."""
    site = site_of_openstack(conf)
    if site is not None:
        found = platform().sites[site]
        return Destination(f"Safespring {site}", found.country, True, site)
    cloud, url = attr(conf, "cloud"), attr(conf, "auth_url")
    if isinstance(url, Unresolved):
        return url
    if isinstance(url, str):
        return _of_host(url, f"auth_url {url}")
    if isinstance(cloud, Unresolved):
        return cloud
    if isinstance(cloud, str):
        return Destination(f"cloud {cloud!r}", None, None, declare=(
            f"the site comes from the clouds.yaml entry {cloud!r}, which the scan cannot see: set "
            "auth_url in the provider block, or name a Safespring cloud safespring-<site>"))
    return Destination("the environment", None, None, declare=(
        "neither cloud nor auth_url is set: the site comes from the environment (OS_CLOUD, "
        "OS_AUTH_URL, clouds.yaml), which the scan cannot see; set cloud = \"safespring-<site>\" "
        "or auth_url in the provider block"))


def aws_destination(conf: Mapping[str, Any]) -> Destination | Unresolved:
    """Where an aws provider block sends data: its S3 endpoint, or AWS itself in its region."""
    endpoints = blocks(conf, "endpoints")
    s3 = attr(endpoints[0], "s3") if endpoints else MISSING
    if isinstance(s3, Unresolved):
        return s3
    if isinstance(s3, str) and s3:
        site = site_of_s3_endpoint(s3)
        if site is not None:
            return Destination(f"Safespring Storage {site}", platform().sites[site].country, True, site)
        return _of_host(s3, f"endpoints.s3 {s3}")
    region = attr(conf, "region")
    if isinstance(region, Unresolved):
        return region
    if not isinstance(region, str):
        return Destination("AWS", None, False, declare=(
            "no endpoints.s3 and no region: the provider talks to AWS in the region the "
            "environment gives (AWS_REGION); set endpoints { s3 = ... } or region"))
    country = _data()["aws_regions"].get(region)
    return Destination(f"AWS region {region}", country, False, declare="" if country else (
        f"AWS region {region} is not placed by generator/data/destinations.yaml: skip the check "
        "with its country written as the reason"))
