"""CKV_GDPR_11: providers point at a Safespring site (data residency, GDPR Art. 44)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from generator.evidence.check import PASS, ProviderCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope, provider_conf
from generator.evidence.values import MISSING, Unresolved, attr, blocks
from generator.platform import platform

SAFESPRING_DOMAIN = ".safedc.net"


def _openstack(conf: dict[str, Any]) -> Verdict:
    cloud = attr(conf, "cloud")
    if isinstance(cloud, str) and cloud in {f"safespring-{s}" for s in platform().sites}:
        return PASS
    url = attr(conf, "auth_url")
    if isinstance(url, str):
        parsed = urlparse(url)
        if parsed.scheme == "https" and (parsed.hostname or "").endswith(SAFESPRING_DOMAIN):
            return PASS
        return fail(f"auth_url {url} is not a Safespring site")
    if isinstance(cloud, Unresolved):
        return unknown(f"cloud is {cloud}")
    if isinstance(url, Unresolved):
        return unknown(f"auth_url is {url}")
    if cloud is MISSING:
        return fail("neither cloud nor auth_url is set: the provider takes its site from the "
                    "environment (OS_CLOUD, OS_AUTH_URL, clouds.yaml), which the scan cannot see; "
                    "set cloud = \"safespring-<site>\"")
    return fail(f"cloud {cloud!r} is not safespring-<site> and no auth_url under {SAFESPRING_DOMAIN}")


def _aws(conf: dict[str, Any]) -> Verdict:
    allowed = {site.s3_endpoint.rstrip("/") for site in platform().sites.values()}
    endpoints = blocks(conf, "endpoints")
    if not endpoints:
        return fail("no endpoints block: the aws provider would talk to AWS")
    s3 = attr(endpoints[0], "s3")
    if isinstance(s3, str) and s3.rstrip("/") in allowed:
        return PASS
    if isinstance(s3, Unresolved):
        return unknown(f"endpoints.s3 is {s3}")
    shown = s3 if isinstance(s3, str) else "missing (the provider would talk to AWS S3)"
    return fail(f"endpoints.s3 is {shown}, not a Safespring endpoint")


class ProviderOnSafespringSite(ProviderCheck):
    ID = "CKV_GDPR_11"

    def judge(self, scope: Scope, provider: str) -> Verdict:
        conf = provider_conf(scope)
        return _aws(conf) if provider == "aws" else _openstack(conf)


check = ProviderOnSafespringSite()
