"""The egress proxy of the `private` network: Squid with an allow-list, and its clients.

Safespring's `private` network reaches the other Safespring networks and nothing else. Groups
there still need packages, their Tang servers, Safespring Storage on the backup site and the
time. The blueprint adds a proxy group on `default` that lets through only an allow-list (the
distribution mirrors, the Tang servers, the Storage endpoints of `site` and `backup_site`, the
ACME CA when a private group serves an endpoint, and hosts the spec lists), logs every request,
refused ones included, and serves the time. Personal data can so leave the private network only
for listed destinations (Art. 32(1)(b), 44). This module is pure: spec values in, files out.

Why Squid: maintained in Debian and Ubuntu, allow-lists by destination name for CONNECT (the
TLS tunnels of apt over https, restic, S3, ACME) and plain GET alike, logs each request with its
verdict, and needs no certificate of its own (it never opens TLS). Nothing is cached: the proxy
holds no data at rest. Each item here is exercised against the real squid by tests/egress/.

``parts`` gives the proxy group (added by the spec model when a group is on `private` and
`egress.proxy` is auto) the proxy and every private group the client settings; the proxy
group's security group has no world egress (network.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

import yaml

import ssb_guest
from generator.platform import platform
from generator.render.cloudinit import GuestConfig, Part, part_from
from generator.spec.model import EGRESS_GROUP, InstanceGroup, Spec
from ssb_guest import egress_proxy

PORT = 3128
METADATA_KEY = "ssb_egress_proxy"
CONF = "/etc/safespring-blueprints/egress/squid.conf"
ALLOW_LIST = "/etc/safespring-blueprints/egress/allow-list.json"
SQUID_DROPIN = "/etc/systemd/system/squid.service.d/safespring-blueprints.conf"
CHRONY_SERVE = "/etc/chrony/conf.d/ssb-egress-serve.conf"
# The client program's configuration: its path and keys are the program's (ssb_guest/egress_proxy.py).
CLIENT_CONFIG = egress_proxy.CONFIG
CLIENT_PROGRAM = "/usr/local/sbin/ssb-egress-proxy"
CLIENT_ENV = "/run/safespring-blueprints/egress-proxy.env"
CLIENT_UNIT = "ssb-egress-proxy.service"
# Units that fetch from outside without a login shell: the Tang unlock at boot, the backups.
PROXIED_UNITS = ("ssb-volumes.service", "ssb-backup.service", "ssb-backup-check.service",
                 "ssb-backup-maintain.service", "ssb-backup-drill.service",
                 # ssb-verify asks Tang whether the volumes' keys are still advertised.
                 "ssb-verify.service")
# Squid serves only the private network's subnets, which Terraform reads from the platform and
# hands the proxy as metadata (CLIENTS_KEY); `ssb-egress-proxy clients` writes them to
# CLIENTS_ACL before Squid starts. The security group is the gate; this is the second line.
CLIENTS_KEY = egress_proxy.CLIENTS_KEY
CLIENTS_ACL = "/run/safespring-blueprints/egress-clients.acl"
# Private address space chrony answers time requests from (time only, no data leaves that way).
CLIENT_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
NO_PROXY = ("localhost", "127.0.0.1", "::1", "169.254.169.254")

# Why a host is on the allow-list; the report and CKV_GDPR_26 read these words.
REASONS = {
    "safespring-storage": "Safespring Storage (S3) of the deployment's sites",
    "tang": "the customer's Tang server",
    "mirror": "distribution mirror of the images",
    "acme": "ACME CA issuing the endpoints' certificates",
    "listed": "listed in the spec (egress.allow)",
}


@cache
def egress_data() -> dict:
    """generator/data/egress.yaml: mirrors per distribution, the ACME host, Safespring's domain."""
    text = resources.files("generator").joinpath("data/egress.yaml").read_text("utf-8")
    return yaml.load(text, Loader=yaml.CSafeLoader)


@dataclass(frozen=True)
class Allowed:
    """One destination host the proxy lets through, and why."""

    host: str
    reason: str


def mirrors_for(images: Sequence[str]) -> tuple[str, ...]:
    """The distribution mirrors of `images` (debian-12 -> deb.debian.org, ...)."""
    mirrors = egress_data()["mirrors"]
    out: list[str] = []
    for image in images:
        out += mirrors.get(image.split("-", 1)[0], [])
    return tuple(dict.fromkeys(out))


def allow_list(*, images: Sequence[str], tang_servers: Sequence[str],
               storage_endpoints: Sequence[str], acme: bool,
               listed: Sequence[str] = ()) -> tuple[Allowed, ...]:
    """The proxy's allow-list, each host once with its first reason, in a stable order."""
    candidates = [Allowed(urlsplit(u).hostname or "", "safespring-storage")
                  for u in storage_endpoints]
    candidates += [Allowed(urlsplit(u).hostname or "", "tang") for u in tang_servers]
    candidates += [Allowed(h, "mirror") for h in mirrors_for(images)]
    candidates += [Allowed(h, "acme") for h in (egress_data()["acme"] if acme else [])]
    candidates += [Allowed(h, "listed") for h in listed]
    seen: dict[str, Allowed] = {}
    for item in candidates:
        if not item.host:
            raise ValueError("an allow-list entry has no host name")
        seen.setdefault(item.host, item)
    return tuple(seen.values())


def tang_ports(tang_servers: Sequence[str]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(plain HTTP ports, TLS ports) the proxy must allow: 80 and 443, plus the Tang servers'."""
    plain, tls = {80}, {443}
    for url in tang_servers:
        parts = urlsplit(url)
        if parts.scheme == "https":
            tls.add(parts.port or 443)
        else:
            plain.add(parts.port or 80)
    return tuple(sorted(plain)), tuple(sorted(tls))


def squid_conf(allowed: Sequence[Allowed], *, tang_servers: Sequence[str], port: int = PORT,
               bind: str | None = None, access_log: str = "syslog:daemon.info squid",
               cache_log: str = "/var/log/squid/cache.log", pid_file: str = "/run/squid.pid",
               hosts_file: str | None = None, clients_file: str = CLIENTS_ACL,
               ) -> str:
    """squid.conf: allow-list only, nothing cached, every request logged with its verdict.

    The keyword arguments other than `tang_servers` exist for the tests on loopback (an
    unprivileged port, logs in a temporary directory, a hosts file naming test origins).
    """
    plain, tls = tang_ports(tang_servers)
    tang_hosts = sorted({a.host for a in allowed if a.reason == "tang"})
    hosts = " ".join(a.host for a in allowed)
    lines = [
        "# Generated by safespring-blueprints. Do not edit: regenerate the blueprint.",
        "# The egress proxy of the private network: only the allow-list passes; every request,",
        "# refused ones too, is logged (to syslog, so to the log collector).",
        f"http_port {bind + ':' if bind else ''}{port}",
        # The private network's subnets (written at boot from the metadata), and loopback.
        f'acl ssb_clients src "{clients_file}"',
        "acl ssb_clients src 127.0.0.1/32 ::1",
        # -n: never a reverse lookup, so an IP address never matches a name on the list.
        f"acl ssb_allowed dstdomain -n {hosts}",
        *([f"acl ssb_tang dstdomain -n {' '.join(tang_hosts)}"] if tang_hosts else []),
        f"acl ssb_ports port {' '.join(str(p) for p in sorted({*plain, *tls}))}",
        f"acl ssb_tls_ports port {' '.join(str(p) for p in tls)}",
        "acl CONNECT method CONNECT",
        "acl ssb_read method GET HEAD",
        "acl ssb_post method POST",
        "http_access deny !ssb_clients",
        "http_access deny !ssb_allowed",
        "http_access deny !ssb_ports",
        "http_access deny CONNECT !ssb_tls_ports",
        "http_access allow CONNECT",
        "http_access allow ssb_read",
        # Clevis asks a Tang server over plain HTTP with POST (key recovery).
        *(["http_access allow ssb_post ssb_tang"] if tang_hosts else []),
        "http_access deny all",
        "http_reply_access allow all",
        "icp_access deny all",
        "cache deny all",
        "cache_mem 8 MB",
        "via off",
        "forwarded_for delete",
        "httpd_suppress_version_string on",
        f"access_log {access_log}",
        f"cache_log {cache_log}",
        f"pid_filename {pid_file}",
        *([f"hosts_file {hosts_file}"] if hosts_file else []),
        "coredump_dir /var/spool/squid",
        "shutdown_lifetime 3 seconds",
    ]
    return "\n".join(lines) + "\n"


def proxy_config(allowed: Sequence[Allowed], *, tang_servers: Sequence[str]) -> GuestConfig:
    """The proxy instance: Squid on the allow-list, and chrony serving time to the clients."""
    conf = squid_conf(allowed, tang_servers=tang_servers)
    listing = {"port": PORT, "allow": [{"host": a.host, "reason": a.reason} for a in allowed]}
    dropin = "\n".join([
        "# Generated by safespring-blueprints: run Squid on the blueprint's allow-list config,",
        "# serving the private network's subnets from the instance metadata (none: no start).",
        "[Service]",
        "ExecStartPre=",
        f"ExecStartPre={CLIENT_PROGRAM} clients",
        f"ExecStartPre=/usr/sbin/squid --foreground -z -f {CONF}",
        "ExecStart=",
        f"ExecStart=/usr/sbin/squid --foreground -sYC -f {CONF}",
        "",
    ])
    chrony = ("# Generated by safespring-blueprints: serve time to the private network, whose\n"
              "# instances have no other time source.\n"
              + "".join(f"allow {n}\n" for n in CLIENT_NETWORKS))
    files = sorted([
        (CONF, conf, "0644"),
        ssb_guest.program(CLIENT_PROGRAM),
        (ALLOW_LIST, json.dumps(listing, indent=2, sort_keys=True) + "\n", "0644"),
        (SQUID_DROPIN, dropin, "0644"),
        (CHRONY_SERVE, chrony, "0644"),
    ])
    commands: tuple[tuple[str, ...], ...] = (
        ("systemctl", "daemon-reload"),
        ("systemctl", "enable", "squid.service", "chrony.service"),
        # Stop first, so nothing listens on a configuration that did not validate.
        ("systemctl", "stop", "squid.service"),
        (CLIENT_PROGRAM, "clients"),
        ("/usr/sbin/squid", "-k", "parse", "-f", CONF),
        ("systemctl", "start", "squid.service"),
        ("systemctl", "restart", "chrony.service"),
    )
    return GuestConfig(packages=("chrony", "squid"), files=tuple(files), commands=commands,
                       measures=("egress-allow-list", "egress-log", "time-server"))


def client_config(*, port: int = PORT) -> GuestConfig:
    """An instance on the private network: apt, Tang, backups, shells and time via the proxy."""
    config = egress_proxy.config(port=port, metadata_key=METADATA_KEY, no_proxy=list(NO_PROXY))
    apt = "\n".join([
        "// Generated by safespring-blueprints: the private network reaches the outside only",
        "// through the deployment's egress proxy; its address comes from the instance metadata.",
        f'Acquire::http::Proxy-Auto-Detect "{CLIENT_PROGRAM}";',
        f'Acquire::https::Proxy-Auto-Detect "{CLIENT_PROGRAM}";',
        "",
    ])
    dropin = "\n".join([
        "# Generated by safespring-blueprints: no login shell sets a proxy for this unit.",
        "[Unit]",
        f"Wants={CLIENT_UNIT}",
        f"After={CLIENT_UNIT}",
        "[Service]",
        f"EnvironmentFile=-{CLIENT_ENV}",
        "",
    ])
    names = "http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY"
    files = [
        (CLIENT_CONFIG, json.dumps(config, indent=2, sort_keys=True) + "\n", "0644"),
        ssb_guest.program(CLIENT_PROGRAM),
        (f"/etc/systemd/system/{CLIENT_UNIT}", ssb_guest.read(f"units/{CLIENT_UNIT}"), "0644"),
        ("/etc/apt/apt.conf.d/90ssb-egress-proxy", apt, "0644"),
        ("/etc/profile.d/ssb-egress-proxy.sh",
         f"# Generated by safespring-blueprints: the egress proxy for login shells.\n"
         f"if [ -r {CLIENT_ENV} ]; then set -a; . {CLIENT_ENV}; set +a; fi\n", "0644"),
        ("/etc/sudoers.d/ssb-egress-proxy",
         f"# Generated by safespring-blueprints: sudo ssb-restore etc. keep the proxy.\n"
         f'Defaults env_keep += "{names}"\n', "0440"),
        ("/etc/chrony/conf.d/ssb-egress-proxy.conf",
         "# Generated by safespring-blueprints: the egress proxies are the time servers.\n"
         "sourcedir /run/safespring-blueprints/chrony\n", "0644"),
        *((f"/etc/systemd/system/{unit}.d/ssb-egress-proxy.conf", dropin, "0644")
          for unit in PROXIED_UNITS),
    ]
    commands: tuple[tuple[str, ...], ...] = (
        ("systemctl", "daemon-reload"),
        ("systemctl", "enable", "--now", CLIENT_UNIT),
    )
    return GuestConfig(packages=("chrony",), files=tuple(sorted(files)), commands=commands,
                       measures=("egress-proxy-client",))


# ---------------------------------------------------------------------------------------------
# The feature: this deployment's allow-list, and which group gets the proxy or its client.

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
