"""CKV_GDPR_14: the backup bucket lives on another Safespring site than the data.

A backup on the site that holds the data does not survive the loss of that site (Art. 32(1)(b),
(c)). A graph check on every backup bucket (evidence_graph.is_backup_bucket): the aws provider
configuration it is created with (plan: Terraform's provider_config_key; HCL: its `provider`
argument and the `providers` mappings of the module calls around it) must point at a Safespring
S3 endpoint of a site that is neither the default aws provider's nor the default openstack
provider's of the root module. Anything unresolved or unknown fails.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    Scope,
    Unresolved,
    attr,
    block_config,
    blocks,
    guideline,
    has_no_instances,
    provider_conf,
    provider_configured,
    root_module_blocks,
    severity,
    site_of_openstack,
    site_of_s3_endpoint,
)
from generator.policies.evidence_graph import deployment_dir, is_backup_bucket, provider_of

ID = "CKV_GDPR_14"


def _root_directory(scope: Scope) -> str | None:
    """HCL mode: the directory of the root module the resource belongs to."""
    me = scope.node
    return deployment_dir(me) if me else None


def _providers(scope: Scope) -> dict[str, dict[str, Any]] | None:
    """Root provider blocks by configuration key ("aws", "aws.backup", "openstack")."""
    if scope.plan is not None:
        return {key: provider_conf(scope, key) for key in scope.plan.provider_configs()
                if ":" not in key and provider_configured(scope, key)}
    directory = _root_directory(scope)
    if directory is None:
        return None
    out = {}
    for node in root_module_blocks(scope.nodes, directory, "provider"):
        conf = block_config(node)
        alias = attr(conf, "alias")
        name = str(node.get("block_name_", "")).split(".")[0]
        out[f"{name}.{alias}" if isinstance(alias, str) else name] = conf
    return out


def _s3_site(conf: dict[str, Any]) -> str | Unresolved | None:
    endpoints = blocks(conf, "endpoints")
    value = attr(endpoints[0], "s3") if endpoints else None
    if isinstance(value, Unresolved):
        return value
    return site_of_s3_endpoint(value)


class BackupBucketOnOtherSite(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure backup buckets live on another Safespring site than the data they back up",
            id=ID, categories=[CheckCategories.BACKUP_AND_RECOVERY],
            supported_resources=["aws_s3_bucket"], guideline=guideline(ID))
        self.severity = severity("HIGH")

    def _fail(self, why: str) -> CheckResult:
        self.details.append(why)
        return CheckResult.FAILED

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        scope = Scope(self, conf)
        if not is_backup_bucket(scope):
            return CheckResult.UNKNOWN
        key = provider_of(scope)
        if key is None:
            return self._fail("the aws provider this bucket is created with cannot be told (a provider "
                              "mapping of a module call is unresolved)")
        providers = _providers(scope)
        if providers is None:
            return self._fail("scan graph unavailable: cannot see the provider blocks")
        if key not in providers:
            return self._fail(f"provider {key} is not configured in the root module")
        backup_site = _s3_site(providers[key])
        if isinstance(backup_site, Unresolved):
            return self._fail(f"provider {key}'s endpoints.s3 is {backup_site}")
        if backup_site is None:
            return self._fail(f"provider {key} does not point at a Safespring S3 endpoint")
        data_sites: dict[str, Any] = {}
        if "openstack" in providers:
            data_sites["openstack"] = site_of_openstack(providers["openstack"])
        if "aws" in providers:
            data_sites["aws"] = _s3_site(providers["aws"])
        if not data_sites:
            return self._fail("no default openstack or aws provider: the data's site is unknown")
        unknown = sorted(k for k, v in data_sites.items() if not isinstance(v, str))
        if unknown:
            return self._fail(f"the data's site is unknown (default {', '.join(unknown)} provider)")
        if backup_site in data_sites.values():
            return self._fail(f"backups go to {backup_site} (provider {key}), the site the data lives on")
        return CheckResult.PASSED


check = BackupBucketOnOtherSite()
