"""Security-group rules per instance group: explicit, minimal, never an empty remote.

Inbound is denied unless a rule opens it; every rule names a remote CIDR or a remote security
group (Safespring's known issue: an empty `remote_ip_prefix` opened all ports). Egress is
explicit too: web and DNS/NTP outward, and east-west only where `allow_from` asks for it.
A group on the `private` network with the egress proxy has no world egress at all: only the
proxy (and its time server), the flows the spec names, and the OpenStack metadata service.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from generator.spec.model import InstanceGroup, Spec

WORLD = (("IPv4", "0.0.0.0/0"), ("IPv6", "::/0"))
OUTBOUND = (("tcp", 80, "package mirrors"), ("tcp", 443, "HTTPS: packages, ACME, S3, Tang"),
            ("udp", 53, "DNS"), ("udp", 123, "NTP"))
# The metadata service (link-local, not the internet): cloud-init and the proxy's address.
METADATA = ("IPv4", "169.254.169.254/32")


def _rule(direction: str, ethertype: str, protocol: str, port: int, description: str,
          *, cidr: str | None = None, group: str | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "direction": direction, "ethertype": ethertype, "protocol": protocol,
        "port_range_min": port, "port_range_max": port,
    }
    if cidr is not None:
        rule["remote_ip_prefix"] = cidr
    else:
        rule["remote_group"] = group
    rule["description"] = description
    return rule


def rules(spec: Spec, group: InstanceGroup, world_tcp_ports: tuple[int, ...] = ()) -> dict[str, Any]:
    """The complete rule map of `group`'s security group, keyed by stable names.

    Other groups are named by key (`remote_group`): the security-groups module resolves them
    to ids itself, so the rules stay literal and no module depends on another's output.
    """
    out: dict[str, Any] = {}
    for cidr in group.ssh_from:
        version = ipaddress.ip_network(cidr).version
        out[f"ingress-ssh-{cidr}"] = _rule("ingress", f"IPv{version}", "tcp", 22,
                                           "SSH from an admin network", cidr=cidr)
    for port in world_tcp_ports:
        for ethertype, cidr in WORLD:
            out[f"ingress-tcp-{port}-world-{ethertype.lower()}"] = _rule(
                "ingress", ethertype, "tcp", port, "TLS endpoint", cidr=cidr)
    for flow in group.allow_from:
        for ethertype, _ in WORLD:
            out[f"ingress-{flow.protocol}-{flow.port}-from-{flow.instance}-{ethertype.lower()}"] = \
                _rule("ingress", ethertype, flow.protocol, flow.port,
                      f"from instance group {flow.instance}", group=flow.instance)
    for destination, flow in spec.flows_from.get(group.name, ()):
        for ethertype, _ in WORLD:
            key = f"egress-{flow.protocol}-{flow.port}-to-{destination}-{ethertype.lower()}"
            out[key] = _rule("egress", ethertype, flow.protocol, flow.port,
                             f"to instance group {destination}", group=destination)
    if spec.egress_proxied and group.network == "private":
        out["egress-tcp-80-metadata-ipv4"] = _rule("egress", METADATA[0], "tcp", 80,
                                                   "OpenStack metadata service", cidr=METADATA[1])
        return dict(sorted(out.items()))
    for protocol, port, why in (*OUTBOUND, *_tang_ports(spec)):
        for ethertype, cidr in WORLD:
            out[f"egress-{protocol}-{port}-world-{ethertype.lower()}"] = _rule(
                "egress", ethertype, protocol, port, why, cidr=cidr)
    return dict(sorted(out.items()))


def _tang_ports(spec: Spec) -> list[tuple[str, int, str]]:
    """Tang servers on non-standard ports need their own egress rule."""
    ports = set()
    for url in spec.tang_servers:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if port not in (80, 443):
            ports.add(port)
    return [("tcp", p, "Tang server") for p in sorted(ports)]
