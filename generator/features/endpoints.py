"""TLS-only endpoints: a Caddy proxy on the serving instance group, 443 open to the world.

Safespring has no load balancer (no Octavia/LBaaS), so TLS terminates on the customer's own
instance, the group the endpoint names; the backend stays on localhost (Art. 32(1)(a)
encryption in transit, 25(2) nothing else exposed). This module turns the spec's endpoints
into the files, packages and first-boot commands for that proxy (``parts``) and the ports its
security group opens (``world_tcp_ports``). It is pure: no disk I/O, deterministic text out.

Why Caddy (Debian/Ubuntu package ``caddy`` 2.6) and not nginx or haproxy:

- ACME is built in. With only TCP 443 open to the world the TLS-ALPN-01 challenge works on
  the TLS port itself, so no certbot, no port 80, no cron job and no reload hook are needed,
  and renewal happens inside the running process. nginx 1.22 and haproxy 2.6 need certbot
  (HTTP-01 on port 80, or DNS credentials on the instance) plus a reload hook.
- Go's TLS stack has no TLS 1.0/1.1 unless asked, no RC4/3DES/export code paths in the
  defaults, and we still list the TLS 1.2 suites explicitly (ECDHE + AEAD only) so a newer
  default cannot widen them. An unknown or missing SNI gets no certificate (handshake fails).
- Unknown ``Host`` headers on a connection are refused (421) with ``strict_sni_host``, incoming
  ``X-Forwarded-*`` headers from clients are not trusted, and ``Authorization``/``Cookie``
  values are redacted in access logs by default.
- Packaged in Debian 12/13 and Ubuntu 24.04 (universe), so ``apt-get install caddy`` is all.

What the generated configuration guarantees (each item is exercised against the real binary
by ``tests/proxy/``):

- Only TCP 443 is listened on: automatic HTTP->HTTPS redirects are disabled, so nothing
  listens on port 80 (``world_tcp_ports`` is ``(443,)``), and HTTP/3 (UDP 443) is off because
  the security group opens TCP only. The admin API is a Unix socket in a 0700 runtime
  directory, not a TCP port.
- TLS 1.2 minimum (ECDHE + AES-GCM/ChaCha20 only) or TLS 1.3 only, per endpoint.
- HSTS ``max-age=63072000; includeSubDomains`` (two years) on every response, errors included.
- No ``Server`` header (neither Caddy's nor the backend's), so no version is disclosed.
- The backend is plaintext on ``127.0.0.1:<backend_port>`` only.
- Access logs go as JSON to stderr, i.e. the systemd journal, where the deployment's log
  shipping and retention apply (one place to manage storage limitation).

Certificates:

- ``acme``: Let's Encrypt (only that CA: no silent fallback to another processor), TLS-ALPN-01
  only (the HTTP-01 challenge is disabled). Until a certificate is issued, handshakes fail.
- ``provided``: the operator places ``/etc/safespring-blueprints/tls/<name>.crt`` (full chain,
  PEM) and ``<name>.key`` (PEM, owner ``root``, group ``caddy``, mode ``0640``) on the guest;
  they never appear in generated files. The directory is created ``root:caddy 0750``. If they
  are missing or unreadable, the configuration does not load and Caddy serves nothing (fail
  closed); after placing them run ``systemctl restart caddy``.

The Caddyfile lives at ``/etc/safespring-blueprints/proxy/Caddyfile`` and a systemd drop-in
points ``caddy.service`` at it, so the package's own ``/etc/caddy/Caddyfile`` conffile (a demo
site on port 80) is never used and ``apt`` never prompts about it, whatever the order in which
cloud-init writes files and installs packages.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from generator.render.cloudinit import Part, part_from
from generator.spec.model import InstanceGroup, Spec
from ssb_guest import verify

PACKAGES: tuple[str, ...] = ("caddy",)
LETSENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory"
HSTS = "max-age=63072000; includeSubDomains"

CADDYFILE = "etc/safespring-blueprints/proxy/Caddyfile"
# What ssb-verify's tls-endpoint check connects to: its path and keys are ssb-verify's.
ENDPOINTS_JSON = verify.ENV_DEFAULTS["SSB_ENDPOINTS"].lstrip("/")
TLS_DIR = "etc/safespring-blueprints/tls"
DROPIN = "etc/systemd/system/caddy.service.d/safespring-blueprints.conf"
ADMIN_SOCKET = "run/caddy/admin.sock"

# TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only. TLS 1.3 suites are fixed by Go.
TLS12_CIPHERS: tuple[str, ...] = (
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
)
CURVES: tuple[str, ...] = ("x25519", "secp256r1", "secp384r1")

_NAME = re.compile(r"[a-z][a-z0-9-]{0,38}[a-z0-9]")
# Lowercase FQDN, at least two labels, last label starts with a letter (so never an IP).
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"(?:{_LABEL}\.)+[a-z](?:[a-z0-9-]{{0,61}}[a-z0-9])?")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@" + _HOSTNAME.pattern)
_ROOT = re.compile(r"/(?:[A-Za-z0-9._-]+/)*")


@dataclass(frozen=True)
class ProxyEndpoint:
    """One public TLS entry point, proxied to a plaintext port on the same instance."""

    name: str
    hostname: str
    backend_port: int
    certificate: str  # "acme" | "provided"
    min_tls: str  # "1.2" | "1.3"


@dataclass(frozen=True)
class ProxyConfig:
    """What cloud-init must do on the instance for its endpoints."""

    packages: tuple[str, ...]
    files: tuple[tuple[str, str, str], ...]  # (guest path, content, octal mode)
    commands: tuple[tuple[str, ...], ...]  # argv lists, run in order at first boot
    world_tcp_ports: tuple[int, ...]


def tls_paths(name: str, *, root: str = "/") -> tuple[str, str]:
    """Guest paths where the operator puts a ``provided`` certificate chain and key."""
    return f"{root}{TLS_DIR}/{name}.crt", f"{root}{TLS_DIR}/{name}.key"


def _check_endpoint(ep: ProxyEndpoint, https_port: int) -> None:
    """Re-validate everything that reaches the config file: nothing but plain tokens."""
    if not isinstance(ep.name, str) or not _NAME.fullmatch(ep.name):
        raise ValueError(f"endpoint name {ep.name!r} must match ^[a-z][a-z0-9-]{{0,38}}[a-z0-9]$")
    if (
        not isinstance(ep.hostname, str)
        or len(ep.hostname) > 253
        or not _HOSTNAME.fullmatch(ep.hostname)
    ):
        raise ValueError(
            f"endpoint {ep.name}: hostname {ep.hostname!r} is not a plain lowercase DNS name"
        )
    port = ep.backend_port
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"endpoint {ep.name}: backend_port {port!r} must be an integer 1..65535")
    if port in (80, 443, https_port):
        raise ValueError(f"endpoint {ep.name}: backend_port {port} is reserved for the proxy")
    if ep.certificate not in ("acme", "provided"):
        raise ValueError(f"endpoint {ep.name}: certificate must be 'acme' or 'provided'")
    if ep.min_tls not in ("1.2", "1.3"):
        raise ValueError(f"endpoint {ep.name}: min_tls must be '1.2' or '1.3'")


def _site(
    ep: ProxyEndpoint, *, root: str, https_port: int, acme_directory: str, acme_ca_root: str | None
) -> str:
    """One Caddyfile site block: TLS policy, HSTS, no Server header, proxy to localhost."""
    protocols = "tls1.2 tls1.3" if ep.min_tls == "1.2" else "tls1.3"
    tls_opts = [f"\t\tprotocols {protocols}"]
    if ep.min_tls == "1.2":
        tls_opts.append("\t\tciphers " + " ".join(TLS12_CIPHERS))
    tls_opts.append("\t\tcurves " + " ".join(CURVES))
    if ep.certificate == "provided":
        crt, key = tls_paths(ep.name, root=root)
        tls_head = f"\ttls {crt} {key} {{"
    else:
        tls_head = "\ttls {"
        tls_opts += [
            "\t\tissuer acme {",
            f"\t\t\tdir {acme_directory}",
            "\t\t\tdisable_http_challenge",
        ]
        if acme_ca_root is not None:
            tls_opts.append(f"\t\t\ttrusted_roots {acme_ca_root}")
        tls_opts.append("\t\t}")
    headers = [
        "\theader {",
        f'\t\tStrict-Transport-Security "{HSTS}"',
        "\t\t-Server",
        "\t}",
    ]
    lines = [
        f"# endpoint {ep.name}: certificate {ep.certificate}, TLS >= {ep.min_tls}",
        f"{ep.hostname}:{https_port} {{",
        tls_head,
        *tls_opts,
        "\t}",
        *headers,
        "\tlog {",
        "\t\toutput stderr",
        "\t\tformat json",
        "\t}",
        f"\treverse_proxy 127.0.0.1:{ep.backend_port}",
        "\thandle_errors {",
        *("\t" + h for h in headers),
        '\t\trespond "{err.status_code} {err.status_text}"',
        "\t}",
        "}",
    ]
    return "\n".join(lines) + "\n"


def proxy_config(
    endpoints: Sequence[ProxyEndpoint],
    acme_email: str | None,
    *,
    https_port: int = 443,
    root: str = "/",
    acme_directory: str = LETSENCRYPT_DIRECTORY,
    acme_ca_root: str | None = None,
    bind_address: str | None = None,
) -> ProxyConfig:
    """Caddy as the TLS-only proxy for ``endpoints``.

    The keyword-only arguments exist for tests on loopback (unprivileged port, a temporary
    root, a local ACME server and its CA, binding 127.0.0.1 only); the spec never sets them.
    In production Caddy listens on every address of the instance (IPv4 and IPv6): the
    security group decides who reaches port 443.
    """
    if not endpoints:
        return ProxyConfig(packages=(), files=(), commands=(), world_tcp_ports=())
    if (
        isinstance(https_port, bool)
        or not isinstance(https_port, int)
        or not (1 <= https_port <= 65535)
    ):
        raise ValueError(f"https_port {https_port!r} must be an integer 1..65535")
    if not isinstance(root, str) or not _ROOT.fullmatch(root):
        raise ValueError(f"root {root!r} must be an absolute path ending in '/'")
    if not re.fullmatch(r"https://[A-Za-z0-9.:/_-]+", acme_directory):
        raise ValueError(f"acme_directory {acme_directory!r} must be a plain https URL")
    if bind_address is not None:
        bind_address = str(ipaddress.ip_address(bind_address))  # ValueError if not an address
    if acme_ca_root is not None and not re.fullmatch(r"/[A-Za-z0-9._/-]+", acme_ca_root):
        raise ValueError(f"acme_ca_root {acme_ca_root!r} must be a plain absolute path")
    names: set[str] = set()
    hosts: set[str] = set()
    for ep in endpoints:
        _check_endpoint(ep, https_port)
        if ep.name in names:
            raise ValueError(f"duplicate endpoint name {ep.name!r}")
        if ep.hostname in hosts:
            raise ValueError(f"duplicate endpoint hostname {ep.hostname!r}")
        names.add(ep.name)
        hosts.add(ep.hostname)
    uses_acme = any(ep.certificate == "acme" for ep in endpoints)
    uses_provided = any(ep.certificate == "provided" for ep in endpoints)
    if acme_email is not None and (
        not isinstance(acme_email, str) or len(acme_email) > 254 or not _EMAIL.fullmatch(acme_email)
    ):
        raise ValueError(f"acme_email {acme_email!r} is not a plain e-mail address")

    caddyfile_path = f"{root}{CADDYFILE}"
    admin = f"unix/{root}{ADMIN_SOCKET}"
    glob = [
        "# Generated by safespring-blueprints. Do not edit: regenerate the blueprint.",
        "# TLS-only endpoints; the backends listen on 127.0.0.1 in plaintext.",
        "{",
        f"\tadmin {admin}",
        *([f"\tdefault_bind {bind_address}"] if bind_address is not None else []),
        # Redirects would need a plaintext listener on port 80, which the world cannot reach.
        "\tauto_https disable_redirects",
        f"\thttps_port {https_port}",
    ]
    if uses_acme and acme_email is not None:
        glob.append(f"\temail {acme_email}")
    glob += [
        "\tservers {",
        # No HTTP/3: it listens on UDP 443, which the security group does not open.
        "\t\tprotocols h1 h2",
        "\t\tstrict_sni_host on",
        "\t\ttimeouts {",
        "\t\t\tread_header 10s",
        "\t\t\tidle 5m",
        "\t\t}",
        "\t}",
        "}",
    ]
    sites = [
        _site(
            ep,
            root=root,
            https_port=https_port,
            acme_directory=acme_directory,
            acme_ca_root=acme_ca_root,
        )
        for ep in endpoints
    ]
    caddyfile = "\n".join(glob) + "\n\n" + "\n".join(sites)

    run = f"/usr/bin/caddy run --config {caddyfile_path} --adapter caddyfile"
    reload = (
        f"/usr/bin/caddy reload --config {caddyfile_path} --adapter caddyfile "
        f"--address {admin} --force"
    )
    dropin = "\n".join(
        [
            "# Generated by safespring-blueprints: run Caddy on the blueprint's TLS proxy config.",
            "[Service]",
            "ExecStart=",
            f"ExecStart={run}",
            "ExecReload=",
            f"ExecReload={reload}",
            # Holds the admin socket; 0700 so only the caddy user (and root) can reconfigure.
            "RuntimeDirectory=caddy",
            "RuntimeDirectoryMode=0700",
            "NoNewPrivileges=true",
            "ProtectHome=true",
            "PrivateDevices=true",
            "",
        ]
    )

    commands: list[tuple[str, ...]] = [("systemctl", "daemon-reload")]
    if uses_provided:
        commands.append(
            ("install", "-d", "-m", "0750", "-o", "root", "-g", "caddy", f"{root}{TLS_DIR}")
        )
    commands += [
        ("systemctl", "enable", "caddy.service"),
        # Stop first: if the package started Caddy on its demo config, or validation fails,
        # nothing keeps listening (fail closed).
        ("systemctl", "stop", "caddy.service"),
        # Validate as the service user, so an unreadable key fails here with a clear message.
        (
            "runuser",
            "-u",
            "caddy",
            "--",
            "/usr/bin/caddy",
            "validate",
            "--config",
            caddyfile_path,
            "--adapter",
            "caddyfile",
        ),
        ("systemctl", "start", "caddy.service"),
    ]
    served = verify.endpoints_config(
        port=https_port, endpoints=[(ep.name, ep.hostname, ep.certificate)
                                    for ep in sorted(endpoints, key=lambda e: e.name)])
    return ProxyConfig(
        packages=PACKAGES,
        files=(
            (caddyfile_path, caddyfile, "0644"),
            (f"{root}{DROPIN}", dropin, "0644"),
            (f"{root}{ENDPOINTS_JSON}", json.dumps(served, indent=2, sort_keys=True) + "\n",
             "0644"),
        ),
        commands=tuple(commands),
        world_tcp_ports=(https_port,),
    )


# ---------------------------------------------------------------------------------------------
# The feature: the endpoints a group serves, its cloud-init part and its open ports.


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
