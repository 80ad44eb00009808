"""CKV_GDPR_29: load-balancer listeners carry TLS, or only redirect to it.

An OpenStack load balancer (Octavia; Safespring offers none, the pack judges OpenStack roots in
general) listener decides what travels between clients and the balancer: TERMINATED_HTTPS
ends TLS on it, HTTPS passes TLS through to the members. HTTP is plain text unless an L7
policy on the listener only redirects to https://. TCP carries whatever the application speaks:
on a port where TLS is the protocol (443, 636, 853, 993, 995, 5671, 6514, 8443) it passes as TLS
passed through; on any other port (a database's 3306, a web server's 80) nothing shows the
traffic is encrypted, and it fails. UDP and SCTP carry no TLS.
"""

from __future__ import annotations

import re
from typing import Any

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.hcl import block_config
from generator.evidence.plan import split_address
from generator.evidence.scope import Scope
from generator.evidence.values import Unresolved, as_int, attr

TLS = frozenset({"TERMINATED_HTTPS", "HTTPS"})
TLS_PORTS = frozenset({443, 636, 853, 993, 995, 5671, 6514, 8443})
L7POLICY = "openstack_lb_l7policy_v2"
_REDIRECTS = frozenset({"REDIRECT_PREFIX", "REDIRECT_TO_URL"})


def _redirects_to_https(conf: dict[str, Any]) -> bool:
    action = attr(conf, "action")
    target = attr(conf, "redirect_prefix") if action == "REDIRECT_PREFIX" else attr(conf, "redirect_url")
    return action in _REDIRECTS and isinstance(target, str) and target.lower().startswith("https://")


def _policies(scope: Scope) -> list[dict[str, Any]]:
    """The L7 policies of this listener (plan: by reference; HCL: in the same module, by name)."""
    if scope.resource is not None:
        plan = scope.plan
        return [{k: [v] for k, v in p.values.items()} for p in plan.of_type(L7POLICY)
                if scope.resource.address in {t.address for t in plan.targets(
                    p, plan.references(p, "listener_id"), rtype=scope.resource.type)}]
    modules, rtype, name, _, _ = split_address(scope.address)
    mine = re.compile(rf"{re.escape(rtype)}\.{re.escape(name)}(\[[^\]]*\])?\.id")
    return [block_config(n) for n in scope.nodes
            if n.get("resource_type") == L7POLICY and n.get("block_type_") == "resource"
            and split_address(str(n.get("__address__", "")))[0] == modules
            and mine.search(str(block_config(n).get("listener_id")))]


class LoadBalancerListenerTls(ResourceCheck):
    ID = "CKV_GDPR_29"

    def judge(self, scope: Scope) -> Verdict:
        protocol, port = attr(scope.conf, "protocol"), as_int(attr(scope.conf, "protocol_port"))
        for name, value in (("protocol", protocol), ("protocol_port", port)):
            if isinstance(value, Unresolved):
                return unknown(f"{name} is {value}")
        if protocol in TLS:
            return PASS
        if protocol == "TCP" and port in TLS_PORTS:
            return PASS  # TLS passed through to the members on a TLS port
        if protocol == "HTTP":
            if any(_redirects_to_https(p) for p in _policies(scope)):
                return PASS
            return fail(f"HTTP on port {port}: requests and answers cross the network in plain text "
                        "(terminate TLS on the listener, TERMINATED_HTTPS, or only redirect to https:// "
                        "with an L7 policy)")
        if protocol == "TCP":
            return fail(f"TCP on port {port}, not a TLS port: nothing shows the traffic to the members "
                        "is encrypted (pass TLS through on a TLS port, or terminate it on the listener)")
        return fail(f"{protocol} on port {port} carries no TLS")


check = LoadBalancerListenerTls()
