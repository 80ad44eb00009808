"""CKV_GDPR_25: instances on the private network go out only through the egress proxy.

An instance whose network is `private` must declare `egress-proxy-client` (metadata
ssb_measures), and the cloud-config its user_data names must send what it fetches through the
proxy: apt (a Proxy or Proxy-Auto-Detect setting under /etc/apt/apt.conf.d/), the Tang unlock
at boot (a drop-in of ssb-volumes.service that sets the proxy, when it declares luks-tang) and
the backups (a drop-in of ssb-backup.service, when it declares backup-restic). Without them the
group either cannot work or is given world egress to work. An instance on another network gives
no finding: nothing on it limits where its data goes, so it is no evidence either way. Nor does
one whose ssb_classification says it holds no personal data: where its data goes is then no GDPR
question (a spec without personal data may write `egress.proxy: none`, and the report shows the
control NOT APPLICABLE). With personal data, `egress.proxy: none` FAILs here as in the report:
the spec turned the measure off, and the scan says so.

What this proves: the instance is created to use the proxy. What it does not: which security
group rules apply to the instance (the blueprint writes no world egress for private groups, and
the security-groups module refuses one with a precondition; the rules themselves are judged by
CKV_GDPR_2, 3 and 19), or that the proxy answers.
"""

from __future__ import annotations

import re
from typing import Any

from generator.evidence.check import NONE, PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope
from generator.evidence.userdata import NotRead, instance_cloud_config, measures_of
from generator.evidence.values import Unresolved, attr, blocks, holds_personal_data

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


class InstancePrivateEgress(ResourceCheck):
    ID = "CKV_GDPR_25"

    def judge(self, scope: Scope) -> Verdict:
        conf = scope.conf
        names = networks(conf)
        unresolved = [n for n in names if isinstance(n, Unresolved)]
        if unresolved:
            return unknown(f"network name is {unresolved[0]}")
        if "private" not in names:
            # Not on the private network: nothing here limits where its data goes, so the
            # check has nothing to judge and gives no evidence either way (no finding).
            return NONE
        if not holds_personal_data(conf, "metadata"):
            # No personal data (ssb_classification says so): no finding, as off the private
            # network; a PASS would claim a limit on egress that may not be there.
            return NONE
        measures = measures_of(conf)
        if isinstance(measures, Unresolved):
            return unknown(f"ssb_measures is {measures}")
        if MEASURE not in measures:
            return fail(f"on the private network but its metadata ssb_measures does not "
                        f"declare {MEASURE}: without the egress proxy it can neither install "
                        "packages, reach Tang nor back up, unless given world egress")
        doc = instance_cloud_config(scope)
        if isinstance(doc, NotRead):
            return unknown(doc)
        if isinstance(doc, str):
            return fail(doc)
        problems = proxy_problems(doc, measures)
        return fail(*problems) if problems else PASS


check = InstancePrivateEgress()
