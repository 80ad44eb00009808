"""CKV_GDPR_25: instances on the private network go out only through the egress proxy.

An instance whose network is `private` must declare `egress-proxy-client` (metadata
ssb_measures), and the cloud-config its user_data names must send what it fetches through the
proxy: apt (a Proxy or Proxy-Auto-Detect setting under /etc/apt/apt.conf.d/), the Tang unlock
at boot (a drop-in of ssb-volumes.service that sets the proxy, when it declares luks-tang) and
the backups (a drop-in of ssb-backup.service, when it declares backup-restic). Without them the
group either cannot work or is given world egress to work. An instance on another network gives
no finding (UNKNOWN): nothing on it limits where its data goes, so it is no evidence either way.

What this proves: the instance is created to use the proxy. What it does not: which security
group rules apply to the instance (the blueprint writes no world egress for private groups, and
the security-groups module refuses one with a precondition; the rules themselves are judged by
CKV_GDPR_2, 3 and 19), or that the proxy answers.
"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    Scope,
    Unresolved,
    attr,
    blocks,
    guideline,
    has_no_instances,
    is_expanded,
    severity,
)
from generator.policies.evidence_graph import deployment_dir
from generator.policies.evidence_userdata import cloud_config, measures_of, plan_cloud_config

ID = "CKV_GDPR_25"
RESOURCE = "openstack_compute_instance_v2"
MEASURE = "egress-proxy-client"
_APT = re.compile(r'^\s*Acquire::https?::Proxy(-Auto-Detect)?\s+"[^"]+"\s*;', re.M)
_ENV = re.compile(r"^\s*(EnvironmentFile=-?/\S+|Environment=.*https?_proxy=\S+)", re.M | re.I)


def networks(conf: dict[str, Any]) -> list[Any]:
    """The names of the instance's network blocks (Unresolved where not known)."""
    return [attr(b, "name") for b in blocks(conf, "network")]


def _written(doc: dict[str, Any]) -> dict[str, str]:
    return {str(f.get("path", "")): str(f.get("content") or "")
            for f in doc.get("write_files") or [] if isinstance(f, dict)}


def proxy_problems(doc: dict[str, Any], measures: set[str]) -> list[str]:
    """What the cloud-config lacks to send the instance's traffic through the proxy."""
    files = _written(doc)
    problems = []
    if not any(_APT.search(text) for path, text in files.items()
               if path.startswith("/etc/apt/apt.conf.d/")):
        problems.append("apt: no Acquire::http(s)::Proxy setting under /etc/apt/apt.conf.d/")
    for measure, unit, what in (("luks-tang", "ssb-volumes.service", "the Tang unlock at boot"),
                                ("backup-restic", "ssb-backup.service", "the backups")):
        if measure not in measures:
            continue
        if not any(_ENV.search(text) for path, text in files.items()
                   if path.startswith(f"/etc/systemd/system/{unit}.d/")):
            problems.append(f"{what}: no drop-in of {unit} gives it the proxy (no login shell "
                            "sets one for a unit)")
    return problems


class InstancePrivateEgress(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure instances on the private network reach the outside only through the "
                 "egress proxy, and that their user data sends apt, Tang and backups through it",
            id=ID, categories=[CheckCategories.NETWORKING],
            supported_resources=[RESOURCE], guideline=guideline(ID))
        self.severity = severity("HIGH")

    def _fail(self, why: str) -> CheckResult:
        self.details.append(why)
        return CheckResult.FAILED

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            return self._fail("count/for_each not expanded by Checkov's HCL evaluation; scanning the "
                              "plan (scan DIR --plan) lets Terraform expand it")
        scope = Scope(self, conf)
        conf = scope.conf
        names = networks(conf)
        unknown = [n for n in names if isinstance(n, Unresolved)]
        if unknown:
            return self._fail(f"network name is {unknown[0]}")
        if "private" not in names:
            # Not on the private network: nothing here limits where its data goes, so the
            # check has nothing to judge and gives no evidence either way (no finding).
            return CheckResult.UNKNOWN
        measures = measures_of(conf)
        if isinstance(measures, Unresolved):
            return self._fail(f"ssb_measures is {measures}")
        if MEASURE not in measures:
            return self._fail(f"on the private network but its metadata ssb_measures does not "
                              f"declare {MEASURE}: without the egress proxy it can neither install "
                              "packages, reach Tang nor back up, unless given world egress")
        if scope.plan is not None:
            doc = plan_cloud_config(scope)
        else:
            node = scope.node
            if node is None:
                return self._fail("scan graph unavailable: cannot find the user data's directory")
            doc = cloud_config(conf.get("user_data"), deployment_dir(node))
        if isinstance(doc, str):
            return self._fail(doc)
        problems = proxy_problems(doc, measures)
        if problems:
            self.details.extend(problems)
            return CheckResult.FAILED
        return CheckResult.PASSED


check = InstancePrivateEgress()
