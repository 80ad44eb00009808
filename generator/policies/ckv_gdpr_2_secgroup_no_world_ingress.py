"""CKV_GDPR_2: only HTTPS (tcp 443) may face the whole internet; every rule has a port range."""

from __future__ import annotations

from typing import Any

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.scope import Scope, remote_group
from generator.evidence.values import MISSING, WORLD, Unresolved, as_int, attr


def ports(low: Any, high: Any) -> str:
    """`port 22`, `ports 8000-8080`."""
    return f"port {low}" if low == high else f"ports {low}-{high}"


def remote_text(prefix: Any, group: Any) -> str:
    if isinstance(group, str) and group:
        return f"security group {group}"
    if prefix is MISSING or prefix == "":
        return "any address (no remote_ip_prefix, no remote_group_id)"
    return str(prefix)


class SecgroupNoWorldIngressButHttps(ResourceCheck):
    ID = "CKV_GDPR_2"

    def judge(self, scope: Scope) -> Verdict:
        conf = scope.conf
        direction = attr(conf, "direction")
        protocol = attr(conf, "protocol")
        low, high = as_int(attr(conf, "port_range_min")), as_int(attr(conf, "port_range_max"))
        prefix = attr(conf, "remote_ip_prefix")
        group = remote_group(conf, scope)
        shown_direction = direction if isinstance(direction, str) else "ingress"
        for name, value in (("direction", direction), ("protocol", protocol),
                            ("port_range_min", low), ("port_range_max", high)):
            if isinstance(value, Unresolved):
                return unknown(f"{name} is {value}")
        # A rule without protocol or ports opens everything it can: never acceptable.
        if protocol is MISSING or low is None or high is None:
            what = "protocol" if protocol is MISSING else "port range"
            every = "protocol and port" if protocol is MISSING else "port"
            towards = "to" if shown_direction == "egress" else "from"
            return fail(f"no {what}: {shown_direction} on every {every} {towards} "
                        f"{remote_text(prefix, group)}")
        if direction is MISSING:
            return fail("no direction")
        if direction == "egress":
            return PASS
        if isinstance(group, str) and group:
            # Neutron accepts only one of remote_group_id / remote_ip_prefix: a group rule
            # never faces the internet.
            return PASS
        if isinstance(prefix, Unresolved):
            return unknown(f"remote_ip_prefix is {prefix}")
        if isinstance(group, Unresolved) and prefix is MISSING:
            return unknown(f"remote_group_id is {group}")
        if prefix is MISSING or prefix == "" or prefix in WORLD:
            if str(protocol).lower() == "tcp" and low == 443 and high == 443:
                return PASS
            return fail(f"{protocol} {ports(low, high)} open to {remote_text(prefix, group)}, the "
                        "whole internet: only tcp 443 may be")
        return PASS


check = SecgroupNoWorldIngressButHttps()
