"""CKV_GDPR_14: the backup bucket lives on another Safespring site than the data.

A backup on the site that holds the data does not survive the loss of that site (Art. 32(1)(b),
(c)). A graph check on every backup bucket (generator/evidence/graph.py `is_backup_bucket`): the
aws provider configuration it is created with (plan: Terraform's provider_config_key; HCL: its
`provider` argument and the `providers` mappings of the module calls around it) must point at a
Safespring S3 endpoint of a site that is neither the default aws provider's nor the default
openstack provider's of the root module.
"""

from __future__ import annotations

from typing import Any

from generator.evidence.check import NONE, PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.graph import is_backup_bucket, provider_of
from generator.evidence.hcl import block_config, deployment_dir, root_module_blocks
from generator.evidence.scope import Scope, provider_conf, provider_configured
from generator.evidence.sites import site_of_openstack, site_of_s3_endpoint
from generator.evidence.values import Unresolved, attr, blocks


def _providers(scope: Scope) -> dict[str, dict[str, Any]] | None:
    """Root provider configurations by key ("aws", "aws.backup", "openstack")."""
    if scope.plan is not None:
        return {key: provider_conf(scope, key) for key in scope.plan.provider_configs()
                if ":" not in key and provider_configured(scope, key)}
    me = scope.node
    if me is None:
        return None
    out = {}
    for node in root_module_blocks(scope.nodes, deployment_dir(me), "provider"):
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


class BackupBucketOnOtherSite(ResourceCheck):
    ID = "CKV_GDPR_14"
    NEEDS_EXPANSION = False  # the provider is the same for every instance

    def judge(self, scope: Scope) -> Verdict:
        if not is_backup_bucket(scope):
            return NONE
        key = provider_of(scope)
        if key is None:
            return unknown("the aws provider this bucket is created with cannot be told (a provider "
                           "mapping of a module call is unresolved)")
        providers = _providers(scope)
        if providers is None:
            return unknown("scan graph unavailable: cannot see the provider blocks")
        if key not in providers:
            return fail(f"provider {key} is not configured in the root module")
        backup_site = _s3_site(providers[key])
        if isinstance(backup_site, Unresolved):
            return unknown(f"provider {key}'s endpoints.s3 is {backup_site}")
        if backup_site is None:
            return fail(f"provider {key} does not point at a Safespring S3 endpoint")
        data_sites: dict[str, Any] = {}
        if "openstack" in providers:
            data_sites["openstack"] = site_of_openstack(providers["openstack"])
        if "aws" in providers:
            data_sites["aws"] = _s3_site(providers["aws"])
        if not data_sites:
            return unknown("no default openstack or aws provider: the data's site is unknown")
        unknown_sites = sorted(k for k, v in data_sites.items() if not isinstance(v, str))
        if unknown_sites:
            return unknown(f"the data's site is unknown (default {', '.join(unknown_sites)} provider)")
        if backup_site in data_sites.values():
            return fail(f"backups go to {backup_site} (provider {key}), the site the data lives on")
        return PASS


check = BackupBucketOnOtherSite()
