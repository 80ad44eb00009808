"""CKV_GDPR_11: providers point at a Safespring site (data residency, GDPR Art. 44)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.provider.base_check import BaseProviderCheck

from generator.platform import platform
from generator.policies.evidence import (
    MISSING,
    Scope,
    Unresolved,
    attr,
    blocks,
    guideline,
    provider_conf,
    provider_configured,
    provider_key,
    severity,
)

ID = "CKV_GDPR_11"
SAFESPRING_DOMAIN = ".safedc.net"


def _openstack_ok(conf: dict[str, Any]) -> tuple[bool, str]:
    cloud = attr(conf, "cloud")
    if isinstance(cloud, str) and cloud in {f"safespring-{s}" for s in platform().sites}:
        return True, ""
    url = attr(conf, "auth_url")
    if isinstance(url, str):
        parsed = urlparse(url)
        if parsed.scheme == "https" and (parsed.hostname or "").endswith(SAFESPRING_DOMAIN):
            return True, ""
        return False, f"auth_url {url} is not a Safespring site"
    if isinstance(cloud, Unresolved) or isinstance(url, Unresolved):
        return False, f"cloud is {cloud}" if isinstance(cloud, Unresolved) else f"auth_url is {url}"
    if cloud is MISSING:
        return False, ("neither cloud nor auth_url is set: the provider takes its site from the "
                       "environment (OS_CLOUD, OS_AUTH_URL, clouds.yaml), which the scan cannot see; "
                       "set cloud = \"safespring-<site>\"")
    return False, f"cloud {cloud!r} is not safespring-<site> and no auth_url under {SAFESPRING_DOMAIN}"


def _aws_ok(conf: dict[str, Any]) -> tuple[bool, str]:
    allowed = {site.s3_endpoint.rstrip("/") for site in platform().sites.values()}
    endpoints = blocks(conf, "endpoints")
    if not endpoints:
        return False, "no endpoints block: the aws provider would talk to AWS"
    s3 = attr(endpoints[0], "s3")
    if isinstance(s3, str) and s3.rstrip("/") in allowed:
        return True, ""
    if isinstance(s3, Unresolved):
        return False, f"endpoints.s3 is {s3}"
    shown = s3 if isinstance(s3, str) else "missing (the provider would talk to AWS S3)"
    return False, f"endpoints.s3 is {shown}, not a Safespring endpoint"


class ProviderOnSafespringSite(BaseProviderCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure openstack and aws providers point at a Safespring site",
            id=ID, categories=[CheckCategories.GENERAL_SECURITY],
            supported_provider=["openstack", "aws"], guideline=guideline(ID))
        self.severity = severity("HIGH")

    def scan_entity_conf(self, conf: dict[str, Any], entity_type: str) -> CheckResult:
        # Which provider this block configures is only known here (entity_type).
        scope = Scope(self, conf)
        if not provider_configured(scope, provider_key(scope.address)):
            return CheckResult.UNKNOWN  # an empty configuration nothing uses: nothing to judge
        conf = provider_conf(scope)
        ok, why = _aws_ok(conf) if entity_type == "aws" else _openstack_ok(conf)
        if ok:
            return CheckResult.PASSED
        self.details.append(why)
        return CheckResult.FAILED

    def scan_provider_conf(self, conf: dict[str, Any]) -> CheckResult:
        scope = Scope(self, conf)
        if not provider_configured(scope, provider_key(scope.address)):
            return CheckResult.UNKNOWN
        conf = provider_conf(scope)
        ok, why = _openstack_ok(conf)
        if ok:
            return CheckResult.PASSED
        self.details.append(why)
        return CheckResult.FAILED


check = ProviderOnSafespringSite()
