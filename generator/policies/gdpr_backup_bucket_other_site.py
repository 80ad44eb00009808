"""CKV_GDPR_14: the backup bucket lives on another Safespring site than the data.

A backup on the site that holds the data does not survive the loss of that site (Art. 32(1)(b),
(c)). The check runs on calls of the backup-bucket module: the aws provider the call is given
(`providers = { aws = aws.<alias> }`; none means the default one) must point at a Safespring S3
endpoint of a site that is neither the default aws provider's nor the openstack provider's of
the same root module. Provider blocks come from the scan graph (a check sees one block at a
time); anything unresolved or unknown fails.
"""

from __future__ import annotations

import posixpath
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.module.base_module_check import BaseModuleCheck

from generator.policies.evidence import (
    attr,
    block_config,
    blocks,
    entity_file,
    graph_blocks,
    guideline,
    root_module_blocks,
    scan_root,
    severity,
    site_of_openstack,
    site_of_s3_endpoint,
    unwrap,
)

ID = "CKV_GDPR_14"
BACKUP_MODULE = "backup-bucket"


def _alias(conf: dict[str, Any]) -> str:
    value = attr(conf, "alias")
    return value if isinstance(value, str) else ""


def _provider_of_call(conf: dict[str, Any]) -> str | None:
    """`aws.<alias>` the call passes as its aws provider, "aws" when it passes none, None when
    the mapping is not readable."""
    if "providers" not in conf:
        return "aws"
    mapping = unwrap(conf["providers"])
    if isinstance(mapping, list) and len(mapping) == 1:
        mapping = mapping[0]
    if not isinstance(mapping, dict):
        return None
    value = unwrap(mapping.get("aws", "aws"))
    return value.strip() if isinstance(value, str) else None


class BackupBucketOnOtherSite(BaseModuleCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure backup buckets live on another Safespring site than the data they back up",
            id=ID, categories=[CheckCategories.BACKUP_AND_RECOVERY], guideline=guideline(ID))
        self.severity = severity("HIGH")

    def _fail(self, why: str) -> CheckResult:
        self.details.append(why)
        return CheckResult.FAILED

    def scan_module_conf(self, conf: dict[str, Any]) -> CheckResult:
        source = attr(conf, "source")
        if not (isinstance(source, str) and posixpath.basename(source.rstrip("/")) == BACKUP_MODULE):
            return CheckResult.UNKNOWN
        nodes = graph_blocks(self.graph)
        relative = entity_file(self.entity_path)
        root = scan_root(nodes, relative)
        if root is None:
            return self._fail("scan graph unavailable: cannot see the provider blocks")
        directory = posixpath.dirname(root + relative)
        providers = root_module_blocks(nodes, directory, "provider")

        wanted = _provider_of_call(conf)
        if wanted is None:
            return self._fail("the call's providers mapping is unresolved")
        alias = wanted.split(".", 1)[1] if "." in wanted else ""
        backup = [block_config(n) for n in providers
                  if n.get("block_name_", "").split(".")[0] == "aws" and _alias(block_config(n)) == alias]
        if len(backup) != 1:
            return self._fail(f"provider {wanted} not found (once) in the calling module")
        endpoints = blocks(backup[0], "endpoints")
        backup_site = site_of_s3_endpoint(attr(endpoints[0], "s3")) if endpoints else None
        if backup_site is None:
            return self._fail(f"provider {wanted} does not point at a Safespring S3 endpoint")

        data_sites: dict[str, str | None] = {}
        for node in providers:
            block = block_config(node)
            kind = node.get("block_name_", "").split(".")[0]
            if _alias(block):
                continue
            if kind == "openstack":
                data_sites["openstack"] = site_of_openstack(block)
            elif kind == "aws":
                eps = blocks(block, "endpoints")
                data_sites["aws"] = site_of_s3_endpoint(attr(eps[0], "s3")) if eps else None
        if not data_sites:
            return self._fail("no default openstack or aws provider: the data's site is unknown")
        unknown = sorted(k for k, v in data_sites.items() if v is None)
        if unknown:
            return self._fail(f"the data's site is unknown (default {', '.join(unknown)} provider)")
        if backup_site in data_sites.values():
            return self._fail(f"backups go to {backup_site}, the site the data lives on")
        return CheckResult.PASSED


check = BackupBucketOnOtherSite()
