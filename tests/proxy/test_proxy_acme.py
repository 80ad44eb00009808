"""ACME end to end on loopback: the generated ``certificate: acme`` configuration obtains a
certificate from a real ACME server (Debian's ``pebble``) with the TLS-ALPN-01 challenge on the
TLS port alone (no port 80 anywhere), then serves the endpoint with it.

pebble resolves the endpoint's hostname through ``pebble-challtestsrv``'s mock DNS, which
answers 127.0.0.1 for every name.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generator.features.endpoints import ProxyEndpoint, proxy_config
from tests.proxy.proxy_harness import (
    START_TIMEOUT,
    backend,
    client_context,
    free_port,
    guest_root,
    https_get,
    listening_sockets,
    make_pki,
    run_first_boot,
    start_caddy,
    stop,
    write_files,
)

HOST = "portal.example.se"
ISSUE_TIMEOUT = 30.0


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is not installed (apt-get install pebble)"
    return path


def _wait_tcp(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args[0]} exited:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise AssertionError(f"{proc.args[0]} not listening:\n{log.read_text()}") from exc
            time.sleep(0.05)


@contextmanager
def _daemon(argv: list[str], port: int, log: Path, env: dict[str, str]) -> Iterator[None]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL
        )
    try:
        _wait_tcp(port, proc, log)
        yield
    finally:
        stop(proc)


def test_acme_tls_alpn_01_issuance_on_the_tls_port_only(tmp_path: Path) -> None:
    pki = make_pki(["127.0.0.1"])  # pebble's own HTTPS listener
    chain, key = pki.leaves["127.0.0.1"]
    (tmp_path / "pebble.crt").write_bytes(chain)
    (tmp_path / "pebble.key").write_bytes(key)
    dns, dns_mgmt, acme, acme_mgmt, https_port = (free_port() for _ in range(5))
    (tmp_path / "pebble.json").write_text(
        json.dumps(
            {
                "pebble": {
                    "listenAddress": f"127.0.0.1:{acme}",
                    "managementListenAddress": f"127.0.0.1:{acme_mgmt}",
                    "certificate": str(tmp_path / "pebble.crt"),
                    "privateKey": str(tmp_path / "pebble.key"),
                    "httpPort": free_port(),  # HTTP-01 is disabled: nothing may answer it
                    "tlsPort": https_port,  # TLS-ALPN-01 is validated on the proxy's own TLS port
                    "ocspResponderURL": "",
                    "externalAccountBindingRequired": False,
                }
            }
        )
    )
    env = {**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"}
    challtestsrv = [
        _tool("pebble-challtestsrv"),
        "-dns01",
        f"127.0.0.1:{dns}",
        "-http01",
        "",
        "-https01",
        "",
        "-tlsalpn01",
        "",
        "-management",
        f"127.0.0.1:{dns_mgmt}",
        "-defaultIPv6",
        "",
    ]
    pebble = [
        _tool("pebble"),
        "-config",
        str(tmp_path / "pebble.json"),
        "-dnsserver",
        f"127.0.0.1:{dns}",
    ]
    with (
        guest_root() as root,
        backend("portal") as backend_port,
        _daemon(challtestsrv, dns_mgmt, tmp_path / "challtestsrv.log", env),
        _daemon(pebble, acme, tmp_path / "pebble.log", env),
    ):
        ca_file = root / "etc/pebble-test-ca.pem"
        ca_file.parent.mkdir(parents=True, exist_ok=True)
        ca_file.write_bytes(pki.ca_pem)
        ca_file.chmod(0o644)
        config = proxy_config(
            [ProxyEndpoint("portal", HOST, backend_port, "acme", "1.3")],
            "ops@example.se",
            https_port=https_port,
            root=f"{root}/",
            bind_address="127.0.0.1",
            acme_directory=f"https://127.0.0.1:{acme}/dir",
            acme_ca_root=str(ca_file),
        )
        write_files(config)
        for r in run_first_boot(config, root):
            assert r.returncode == 0, f"{r.argv}:\n{r.output}"

        # The root pebble issues under (random per run), from its management API.
        pebble_ctx = ssl.create_default_context(cadata=pki.ca_pem.decode())
        with urllib.request.urlopen(
            f"https://127.0.0.1:{acme_mgmt}/roots/0", context=pebble_ctx, timeout=5
        ) as resp:
            issued_root = resp.read()

        with start_caddy(config, root, https_port) as proxy:
            t0 = time.monotonic()
            ctx = client_context(issued_root)
            while True:
                try:
                    resp = https_get(https_port, HOST, ctx)
                    break
                except (ssl.SSLError, ConnectionError) as exc:
                    if time.monotonic() - t0 > ISSUE_TIMEOUT or proxy.proc.poll() is not None:
                        raise AssertionError(
                            f"no certificate after {ISSUE_TIMEOUT}s ({exc}):\n"
                            f"{proxy.log()[-4000:]}\n"
                            f"{(tmp_path / 'pebble.log').read_text()[-3000:]}"
                        ) from exc
                    time.sleep(0.2)
            issued_after = time.monotonic() - t0
            print(
                f"\nACME certificate issued and served after {issued_after:.2f}s "
                f"(caddy start {proxy.start_seconds:.3f}s)"
            )
            assert resp.status == 200 and resp.json()["host"] == HOST
            assert resp.header("Strict-Transport-Security")
            with (
                socket.create_connection(("127.0.0.1", https_port), timeout=5) as raw,
                ctx.wrap_socket(raw, server_hostname=HOST) as tls,
            ):
                assert tls.version() == "TLSv1.3"
                issuer = dict(x[0] for x in tls.getpeercert()["issuer"])
            assert "Pebble" in issuer.get("commonName", ""), issuer
            log = proxy.log()
            assert '"challenge_type":"tls-alpn-01"' in log, log[-3000:]
            assert '"challenge_type":"http-01"' not in log
            # Nothing but the TLS port, during and after issuance.
            assert proxy.sockets == {("tcp", "0100007F", https_port)}, proxy.sockets
            assert listening_sockets(proxy.proc.pid) == {("tcp", "0100007F", https_port)}
