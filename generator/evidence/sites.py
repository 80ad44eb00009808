"""Where a provider sends data: the Safespring site an endpoint or cloud names.

Read from the provider arguments as a check sees them (generator/evidence/scope.py
`provider_conf`), against the platform facts (generator/data/platform.yaml).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from generator.evidence.values import attr
from generator.platform import platform


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
