"""Security-group rules as one shape, whichever resource writes them.

Neutron rules are resources of their own (`openstack_networking_secgroup_rule_v2`); the older
Nova groups (`openstack_compute_secgroup_v2`, still in use) write theirs as inline `rule` blocks
(`ip_protocol`, `from_port`/`to_port`, `cidr`, `from_group_id`, `self`). Both become `Rule`s,
so a check judges a rule, not a resource type.

ICMP has no ports: its port fields are the ICMP type and code (Neutron) or -1 (Nova).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.evidence.scope import Scope, nested_blocks, remote_group
from generator.evidence.values import MISSING, Unresolved, as_bool, as_int, attr

NEUTRON_RULE = "openstack_networking_secgroup_rule_v2"
NOVA_GROUP = "openstack_compute_secgroup_v2"
ICMP = frozenset({"icmp", "ipv6-icmp", "icmpv6", "1", "58"})


@dataclass(frozen=True)
class Rule:
    """One rule: what it lets through, from where. Values may be MISSING or Unresolved."""

    label: str  # "" for a rule resource, "rule[2]" for an inline rule
    direction: Any
    protocol: Any
    low: Any  # int | None | Unresolved
    high: Any
    prefix: Any  # remote CIDR: str | MISSING | Unresolved
    group: Any  # remote group: str (an id, a reference, "self") | MISSING | Unresolved

    @property
    def is_icmp(self) -> bool:
        return isinstance(self.protocol, str) and self.protocol.lower() in ICMP

    @property
    def names_a_group(self) -> bool:
        """The remote is a security group (members of a group, never the internet)."""
        return isinstance(self.group, str) and bool(self.group.strip())


def rules(scope: Scope) -> list[Rule] | Unresolved:
    """The rules the resource of `scope` writes (Unresolved when its inline rules are unknown)."""
    conf = scope.conf
    if scope.address and NOVA_GROUP in scope.address.split("[")[0]:
        found = nested_blocks(scope, "rule")
        if isinstance(found, Unresolved):
            return found
        return [_nova_rule(f"rule[{i}]" if len(found) > 1 else "rule", block)
                for i, block in enumerate(found)]
    return [Rule("", attr(conf, "direction"), attr(conf, "protocol"),
                 as_int(attr(conf, "port_range_min")), as_int(attr(conf, "port_range_max")),
                 attr(conf, "remote_ip_prefix"), remote_group(conf, scope))]


def _nova_rule(label: str, block: dict[str, Any]) -> Rule:
    protocol = attr(block, "ip_protocol")
    low, high = as_int(attr(block, "from_port")), as_int(attr(block, "to_port"))
    is_self = as_bool(attr(block, "self"))
    group = attr(block, "from_group_id")
    if is_self is True:
        group = "self"
    elif isinstance(is_self, Unresolved) and group is MISSING:
        group = is_self
    if isinstance(group, str) and not group.strip():
        group = MISSING
    return Rule(label, "ingress", protocol, low, high, attr(block, "cidr"), group)
