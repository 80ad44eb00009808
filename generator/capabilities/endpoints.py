"""TLS-only endpoints: a Caddy proxy on the serving instance group, 443 open to the world.

Safespring has no load balancer, so TLS terminates on the group named by the endpoint; the
backend stays on localhost (Art. 32(1)(a) encryption in transit, 25(2) nothing else exposed).
"""

from __future__ import annotations

from generator.guest.proxy import ProxyEndpoint, proxy_config
from generator.render.cloudinit import Part, part_from
from generator.spec.model import InstanceGroup, Spec


def _served(spec: Spec, group: InstanceGroup) -> list[ProxyEndpoint]:
    return [ProxyEndpoint(name=e.name, hostname=e.hostname, backend_port=e.backend_port,
                          certificate=e.certificate, min_tls=e.min_tls)
            for e in spec.endpoints if e.instance == group.name]


def world_tcp_ports(spec: Spec, group: InstanceGroup) -> tuple[int, ...]:
    """The ports the group's security group opens to the world: the proxy's, nothing else."""
    return proxy_config(_served(spec, group), None).world_tcp_ports


def parts(spec: Spec, group: InstanceGroup) -> list[Part]:
    """Install and configure the proxy for every endpoint this group serves."""
    endpoints = _served(spec, group)
    if not endpoints:
        return []
    config = proxy_config(endpoints, None)
    return [part_from("tls-endpoint", 20, config)]
