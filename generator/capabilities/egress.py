"""Egress from the `private` network only through an allow-list proxy (Art. 32(1)(b), 44).

The proxy group (added by the spec model when a group is on `private` and `egress.proxy` is
auto) runs Squid on the allow-list and serves time; every private group sends apt, the Tang
unlock, backups and time through it. Its security group has no world egress (network.py).
"""

from __future__ import annotations

from generator.guest.egress import Allowed, allow_list, client_config, proxy_config
from generator.platform import platform
from generator.render.cloudinit import Part, part_from
from generator.spec.model import EGRESS_GROUP, InstanceGroup, Spec

# Before everything that installs packages or fetches (disk encryption is 10).
ORDER = 5


def allowed(spec: Spec) -> tuple[Allowed, ...]:
    """The proxy's allow-list for this deployment (empty without a proxy)."""
    if not spec.egress_proxied:
        return ()
    sites = [spec.site] + ([spec.backup_site] if spec.backup_site else [])
    private = spec.private_groups
    return allow_list(
        images=sorted({g.image for g in private}),
        tang_servers=spec.tang_servers,
        storage_endpoints=[platform().sites[s].s3_endpoint for s in dict.fromkeys(sites)],
        acme=any(e.certificate == "acme" and spec.group(e.instance).network == "private"
                 for e in spec.endpoints),
        listed=spec.egress.allow)


def parts(spec: Spec, group: InstanceGroup) -> list[Part]:
    """The proxy on the proxy group; the client settings on every private group."""
    if not spec.egress_proxied:
        return []
    if group.name == EGRESS_GROUP:
        return [part_from("egress-proxy", ORDER, proxy_config(allowed(spec),
                                                             tang_servers=spec.tang_servers))]
    if group.network == "private":
        return [part_from("egress-proxy-client", ORDER, client_config())]
    return []
