"""CKV_GDPR_2: only HTTPS (tcp 443) may face the whole internet; every rule has a port range.

A rule whose remote is a security group (another group, or the group itself: traffic between
its members) never faces the internet, whatever its ports. ICMP has no ports (its fields are
the ICMP type and code) and offers no service: ICMP from anywhere is not an open port. Rules are
read from `openstack_networking_secgroup_rule_v2` and from the inline rules of
`openstack_compute_secgroup_v2` (generator/evidence/secgroup.py).
"""

from __future__ import annotations

from typing import Any

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope
from generator.evidence.secgroup import Rule, rules
from generator.evidence.values import MISSING, WORLD, Unresolved


def ports(low: Any, high: Any) -> str:
    """`port 22`, `ports 8000-8080`."""
    return f"port {low}" if low == high else f"ports {low}-{high}"


def remote_text(prefix: Any, group: Any) -> str:
    if isinstance(group, str) and group:
        return f"security group {group}"
    if prefix is MISSING or prefix == "":
        return "any address (no remote_ip_prefix, no remote_group_id)"
    return str(prefix)


def judge_rule(rule: Rule) -> Verdict:
    """The verdict on one rule."""
    where = f"{rule.label}: " if rule.label else ""
    for name, value in (("direction", rule.direction), ("protocol", rule.protocol),
                        ("port_range_min", rule.low), ("port_range_max", rule.high)):
        if isinstance(value, Unresolved):
            return unknown(f"{where}{name} is {value}")
    if rule.names_a_group:
        return PASS  # members of a security group, never the internet
    if rule.is_icmp:
        return PASS  # no port, no service
    shown_direction = rule.direction if isinstance(rule.direction, str) else "ingress"
    # A rule without protocol or ports opens everything it can towards a network.
    if rule.protocol is MISSING or rule.low is None or rule.high is None:
        what = "protocol" if rule.protocol is MISSING else "port range"
        every = "protocol and port" if rule.protocol is MISSING else "port"
        towards = "to" if shown_direction == "egress" else "from"
        if isinstance(rule.prefix, Unresolved):
            return unknown(f"{where}no {what}, and remote_ip_prefix is {rule.prefix}")
        if isinstance(rule.group, Unresolved) and rule.prefix is MISSING:
            # A remote group whose id is not known here (a conditional local, a module input):
            # members of a group, or nobody; never "any address".
            return unknown(f"{where}no {what}, and remote_group_id is {rule.group}")
        return fail(f"{where}no {what}: {shown_direction} on every {every} {towards} "
                    f"{remote_text(rule.prefix, rule.group)}")
    if rule.direction is MISSING:
        return fail(f"{where}no direction")
    if rule.direction == "egress":
        return PASS
    if isinstance(rule.prefix, Unresolved):
        return unknown(f"{where}remote_ip_prefix is {rule.prefix}")
    if isinstance(rule.group, Unresolved) and rule.prefix is MISSING:
        return unknown(f"{where}remote_group_id is {rule.group}")
    if rule.prefix is MISSING or rule.prefix == "" or rule.prefix in WORLD:
        if str(rule.protocol).lower() == "tcp" and rule.low == 443 and rule.high == 443:
            return PASS
        return fail(f"{where}{rule.protocol} {ports(rule.low, rule.high)} open to "
                    f"{remote_text(rule.prefix, rule.group)}, the whole internet: only tcp 443 may be")
    return PASS


class SecgroupNoWorldIngressButHttps(ResourceCheck):
    ID = "CKV_GDPR_2"

    def judge(self, scope: Scope) -> Verdict:
        found = rules(scope)
        if isinstance(found, Unresolved):
            return unknown(f"the inline rules are {found}")
        verdicts = [judge_rule(rule) for rule in found]
        failed = [d for v in verdicts if v.result == "failed" for d in v.details]
        if failed:
            return fail(*failed)
        return next((v for v in verdicts if v.result == "unknown"), PASS)


check = SecgroupNoWorldIngressButHttps()
