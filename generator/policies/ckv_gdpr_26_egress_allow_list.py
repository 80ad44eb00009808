"""CKV_GDPR_26: the egress proxy lets through only Safespring, Tang, mirrors and listed hosts.

An instance that declares `egress-allow-list` (metadata ssb_measures) is the deployment's
egress proxy. The Squid configuration its cloud-config writes
(/etc/safespring-blueprints/egress/squid.conf) must refuse everything not on the allow-list
(`http_access deny !ssb_allowed` before any allow, `deny all` last, no `allow all`), name hosts
exactly (no `.domain` wildcard), and log every request (an `access_log` that is not `none`).
Every host on the list must be explained in allow-list.json next to it, and the reason must
hold: Safespring Storage is `s3.<site>.safedc.net` of a Safespring site, a mirror or the ACME CA
is one of generator/data/egress.yaml. Tang servers and hosts the spec lists are the customer's
own declaration: the report's annex shows them for review. Any other instance gives no finding:
it has no allow-list to judge.

What it does not show: that DNS gives these names the addresses they should have, or where a
listed host of the customer keeps data (Art. 44 is for the reviewer of the annex).
"""

from __future__ import annotations

import json
import re
from typing import Any

from generator.evidence.check import NONE, PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope
from generator.evidence.userdata import NotRead, instance_cloud_config, measures_of
from generator.evidence.values import Unresolved
from generator.features.egress import ALLOW_LIST, CONF, REASONS, egress_data
from generator.platform import platform

RESOURCE = "openstack_compute_instance_v2"
MEASURE = "egress-allow-list"


def _directives(conf_text: str, name: str) -> list[list[str]]:
    return [line.split()[1:] for line in conf_text.splitlines()
            if line.split() and line.split()[0] == name]


def allow_list_problems(squid: str, listing: Any) -> list[str]:
    """Why a squid.conf and its allow-list.json do not keep to the allow-list."""
    problems = []
    access = _directives(squid, "http_access")
    allowed = [w for words in _directives(squid, "acl") if words[:2] == ["ssb_allowed", "dstdomain"]
               for w in words[2:] if w != "-n"]
    if not allowed:
        return ["no `acl ssb_allowed dstdomain` allow-list"]
    gate = ["deny", "!ssb_allowed"]
    first_allow = next((i for i, a in enumerate(access) if a[:1] == ["allow"]), len(access))
    if gate not in access[:first_allow]:
        problems.append("`http_access deny !ssb_allowed` does not come before every allow")
    if not access or access[-1] != ["deny", "all"]:
        problems.append("the last http_access is not `deny all`")
    if any(a == ["allow", "all"] for a in access):
        problems.append("`http_access allow all` lets anything through")
    logs = _directives(squid, "access_log")
    if not logs or any(w[:1] == ["none"] for w in logs):
        problems.append("requests are not logged (no access_log, or access_log none)")
    wild = [h for h in allowed if h.startswith(".")]
    if wild:
        problems.append(f"wildcard destinations {', '.join(wild)}: name each host")
    reasons = {}
    if isinstance(listing, dict) and isinstance(listing.get("allow"), list):
        reasons = {str(e.get("host")): str(e.get("reason")) for e in listing["allow"]
                   if isinstance(e, dict)}
    data = egress_data()
    mirrors = {h for hosts in data["mirrors"].values() for h in hosts}
    storage = {f"s3.{site}.{domain}" for site in platform().sites
               for domain in data["safespring_domains"]}
    for host in allowed:
        reason = reasons.get(host)
        if reason not in REASONS:
            problems.append(f"{host}: not explained in {ALLOW_LIST}")
        elif reason == "safespring-storage" and host not in storage:
            problems.append(f"{host}: not the Storage endpoint of a Safespring site")
        elif reason == "mirror" and host not in mirrors:
            problems.append(f"{host}: not a known distribution mirror")
        elif reason == "acme" and host not in data["acme"]:
            problems.append(f"{host}: not the ACME CA the blueprint uses")
    return problems


class EgressAllowList(ResourceCheck):
    ID = "CKV_GDPR_26"

    def judge(self, scope: Scope) -> Verdict:
        conf = scope.conf
        measures = measures_of(conf)
        if isinstance(measures, Unresolved):
            return unknown(f"ssb_measures is {measures}")
        if MEASURE not in measures:
            # Not the egress proxy: no allow-list to judge, and no evidence either way.
            return NONE
        doc = instance_cloud_config(scope)
        if isinstance(doc, NotRead):
            return unknown(doc)
        if isinstance(doc, str):
            return fail(doc)
        files = {str(f.get("path", "")): str(f.get("content") or "")
                 for f in doc.get("write_files") or [] if isinstance(f, dict)}
        if CONF not in files:
            return fail(f"declares {MEASURE} but its cloud-config writes no {CONF}")
        try:
            listing = json.loads(files.get(ALLOW_LIST, "null"))
        except ValueError:
            listing = None
        problems = allow_list_problems(re.sub(r"#.*", "", files[CONF]), listing)
        return fail(*problems) if problems else PASS


check = EgressAllowList()
