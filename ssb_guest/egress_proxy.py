#!/usr/bin/python3
"""ssb-egress-proxy: point an instance on the `private` network at the deployment's egress proxy.

The private network has no route to the internet; the deployment's egress proxy (Squid on the
`default` network, allow-list only) is the one way out. Its addresses are known only after
Terraform created it, so they reach the instance as metadata (`ssb_egress_proxy`, addresses
separated by spaces), not in the user data. This program turns them into what every client
reads:

  url     (or any URL, as apt calls it) print the proxy URL (`http://ADDRESS:PORT`) of the
          first proxy that accepts a TCP connection (the first listed when none does). apt
          calls it through
          `Acquire::http::Proxy-Auto-Detect`, so packages go through the proxy from the very
          first boot, before any unit ran.
  env     write /run/safespring-blueprints/egress-proxy.env (http_proxy, https_proxy, no_proxy
          in both cases) and a chrony sources file naming every proxy as time server. The
          systemd units that fetch from outside (the Tang unlock at boot in ssb-volumes.service,
          the backups) read the env file through a drop-in, since no login shell sets a proxy
          for them; login shells read it through /etc/profile.d.
  clients (on the proxy, before Squid starts) write the networks Squid serves,
          /run/safespring-blueprints/egress-clients.acl, from the metadata `ssb_egress_clients`
          (the private network's subnets, which Terraform reads from the platform). Only
          private address space is accepted; none at all: exit 1, and Squid does not start.

Configuration: /etc/safespring-blueprints/egress/client.json
  {"port": 3128, "metadata_key": "ssb_egress_proxy", "no_proxy": ["localhost", ...]}

Exit status: 0 done, 1 no proxy address (or, for `clients`, no private network) in the metadata,
2 bad configuration.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any

CONFIG = "/etc/safespring-blueprints/egress/client.json"
# Comma-separated; cloud-init's instance data first (any datasource), then the metadata service.
SOURCES = os.environ.get(
    "SSB_METADATA_SOURCES",
    "/run/cloud-init/instance-data.json,http://169.254.169.254/openstack/latest/meta_data.json",
)
RUN_DIR = os.environ.get("SSB_EGRESS_RUN_DIR", "/run/safespring-blueprints")
CONNECT_TIMEOUT = 3.0
CLIENTS_KEY = "ssb_egress_clients"
CLIENTS_ACL = "egress-clients.acl"
# Where a client network may lie: private address space only (RFC 1918, shared 100.64/10,
# unique-local IPv6), never a prefix shorter than the space itself.
PRIVATE_SPACE = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"))


class SetupError(Exception):
    """A problem the operator must fix; printed as one line."""


def log(message: str) -> None:
    print(f"ssb-egress-proxy: {message}", file=sys.stderr, flush=True)


def load_config(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise SetupError(f"cannot read {path}: {exc}") from exc
    port = data.get("port") if isinstance(data, dict) else None
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise SetupError(f"{path}: port must be an integer 1..65535")
    key = data.get("metadata_key")
    if not isinstance(key, str) or not key.replace("_", "").isalnum():
        raise SetupError(f"{path}: metadata_key must be a plain key")
    no_proxy = data.get("no_proxy", [])
    if not isinstance(no_proxy, list) or not all(
            isinstance(h, str) and h and all(c.isalnum() or c in ".-:/" for c in h)
            for h in no_proxy):
        raise SetupError(f"{path}: no_proxy must list plain host names or addresses")
    return {"port": port, "metadata_key": key, "no_proxy": no_proxy}


# generator side: not installed
# The configuration file as the generator writes it: load_config() above reads what this writes.
def config(*, port: int, metadata_key: str, no_proxy: list[str]) -> dict[str, Any]:
    """CONFIG's content: the proxies' port, the metadata key listing their addresses, and the
    hosts reached without them."""
    return {"port": port, "metadata_key": metadata_key, "no_proxy": list(no_proxy)}


# end of generator side
def _read_source(source: str) -> dict[str, Any] | None:
    try:
        if source.startswith(("http://", "https://")):
            with urllib.request.urlopen(source, timeout=5) as resp:
                raw = resp.read()
        else:
            if not os.path.exists(source):
                return None
            with open(source, "rb") as handle:
                raw = handle.read()
        doc = json.loads(raw.decode("utf-8"))
    except (OSError, urllib.error.URLError, ValueError) as exc:
        log(f"metadata source {source} not readable: {exc}")
        return None
    if not isinstance(doc, dict):
        return None
    # cloud-init's instance data keeps the datasource's own metadata under ds.meta_data.
    inner = doc.get("ds", {}).get("meta_data") if isinstance(doc.get("ds"), dict) else None
    return inner if isinstance(inner, dict) else doc


def metadata_words(key: str, sources: str = SOURCES) -> list[str]:
    """The words of metadata `key` from the first metadata source that has any metadata."""
    for source in [s for s in sources.split(",") if s]:
        doc = _read_source(source)
        if doc is None:
            continue
        meta = doc.get("meta", {})
        value = meta.get(key) if isinstance(meta, dict) else None
        return value.split() if isinstance(value, str) else []
    return []


def proxy_addresses(key: str, sources: str = SOURCES) -> list[str]:
    """The proxy addresses from the first metadata source that has any metadata."""
    out = []
    for item in metadata_words(key, sources):
        try:
            out.append(str(ipaddress.ip_address(item)))
        except ValueError:
            log(f"metadata {key}: {item!r} is not an IP address; ignored")
    return out


def client_networks(sources: str = SOURCES) -> list[str]:
    """The private networks in metadata CLIENTS_KEY; anything else is refused (logged)."""
    out = []
    for item in metadata_words(CLIENTS_KEY, sources):
        try:
            net = ipaddress.ip_network(item)
        except ValueError:
            log(f"metadata {CLIENTS_KEY}: {item!r} is not a network; ignored")
            continue
        if not any(net.version == space.version and net.subnet_of(space)
                   for space in PRIVATE_SPACE):
            log(f"metadata {CLIENTS_KEY}: {item} is not private address space; ignored")
            continue
        out.append(str(net))
    return out


def write_clients() -> int:
    """The proxy's client ACL file from the metadata; 1 (and an empty file) when none."""
    networks = client_networks()
    _write(os.path.join(RUN_DIR, CLIENTS_ACL),
           "# Written at boot by ssb-egress-proxy from the instance metadata.\n"
           + "".join(f"{n}\n" for n in networks))
    if not networks:
        log(f"no private network in instance metadata {CLIENTS_KEY}: the proxy serves nobody")
        return 1
    log(f"serving {' '.join(networks)}")
    return 0


def _reachable(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=CONNECT_TIMEOUT):
            return True
    except OSError:
        return False


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def choose(addresses: list[str], port: int) -> str:
    """The first address whose proxy port answers; the first one when none does (yet)."""
    for address in addresses:
        if _reachable(address, port):
            return address
    return addresses[0]


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def write_env(config: dict[str, Any], addresses: list[str]) -> str:
    """The env file and chrony sources for `addresses`; returns the proxy URL chosen."""
    url = f"http://{_host(choose(addresses, config['port']))}:{config['port']}"
    no_proxy = ",".join(config["no_proxy"])
    lines = [f"{name}={value}" for name, value in (
        ("http_proxy", url), ("https_proxy", url), ("HTTP_PROXY", url), ("HTTPS_PROXY", url),
        ("no_proxy", no_proxy), ("NO_PROXY", no_proxy))]
    _write(os.path.join(RUN_DIR, "egress-proxy.env"),
           "# Written at boot by ssb-egress-proxy from the instance metadata.\n"
           + "\n".join(lines) + "\n")
    _write(os.path.join(RUN_DIR, "chrony", "ssb-egress-proxy.sources"),
           "".join(f"server {a} iburst\n" for a in addresses))
    return url


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not (argv[1] in ("url", "env", "clients")
                              or argv[1].startswith(("http:", "https:"))):
        print("usage: ssb-egress-proxy url|env|clients|URL", file=sys.stderr)
        return 2
    if argv[1] == "clients":
        return write_clients()
    mode = "env" if argv[1] == "env" else "url"
    try:
        config = load_config(os.environ.get("SSB_EGRESS_CONFIG", CONFIG))
    except SetupError as exc:
        log(str(exc))
        return 2
    addresses = proxy_addresses(config["metadata_key"])
    if not addresses and mode == "env":
        # First boot may run before the datasource's data is in place: wait a little.
        for _ in range(10):
            time.sleep(3)
            addresses = proxy_addresses(config["metadata_key"])
            if addresses:
                break
    if not addresses:
        log(f"no proxy address in instance metadata {config['metadata_key']}")
        return 1
    if mode == "url":
        # apt reads the URL from stdout; nothing else may go there.
        print(f"http://{_host(choose(addresses, config['port']))}:{config['port']}")
        return 0
    url = write_env(config, addresses)
    log(f"proxy {url}; time servers {' '.join(addresses)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
