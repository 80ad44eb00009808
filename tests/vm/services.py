"""The services a guest talks to, run for real on the host's loopback.

Tang (`tangd`, one process per connection as systemd's socket activation runs it), an S3 API
(moto_server, over TLS with a certificate for Safespring's endpoint names), an ACME server
(Debian's pebble, behind a small proxy that serves its directory at Let's Encrypt's path) and
an empty package mirror. The guest reaches each through a fixed address on QEMU's user network
(tests/vm/addresses.py); `Forward` is what QEMU runs per guest connection to join the two. A
group on the private network reaches them only through the egress proxy (`EgressProxy`).
"""

from __future__ import annotations

import hashlib
import http.client
import http.server
import json
import os
import random
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.guest.guest_harness import TangServer, make_tang
from tests.guest_backup.backup_harness import FAKE_AWS_ENV, free_port
from tests.vm import addresses

__all__ = ["FAKE_AWS_ENV", "EgressProxy", "Forward", "TangServer", "make_tang"]


@dataclass(frozen=True)
class Forward:
    """One guest-visible TCP address joined to a port on the host's loopback."""

    address: str
    port: int
    host_port: int

    def qemu(self) -> str:
        # QEMU spawns the command for each connection the guest opens to address:port.
        return (f"guestfwd=tcp:{self.address}:{self.port}-cmd:"
                f"socat STDIO TCP4:127.0.0.1:{self.host_port}")


def leaf_certificate(ca_cert: Path, ca_key: Path, directory: Path, names: tuple[str, ...]
                     ) -> tuple[Path, Path]:
    """A server certificate for `names`, signed by the image's test CA."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = hashlib.sha256(" ".join(names).encode()).hexdigest()[:8]
    key, csr, cert = (directory / f"{stem}.key", directory / f"{stem}.csr",
                      directory / f"{stem}.pem")
    ext = directory / f"{stem}.ext"
    ext.write_text("subjectAltName=" + ",".join(f"DNS:{n}" for n in names) + "\n"
                   "extendedKeyUsage=serverAuth\n")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(csr),
                    "-subj", f"/CN={names[0]}"], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_cert),
                    "-CAkey", str(ca_key), "-CAcreateserial", "-days", "30", "-out", str(cert),
                    "-extfile", str(ext)], check=True, capture_output=True)
    return cert, key


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60,
               address: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args!r} exited:\n{log.read_text()}")
        try:
            socket.create_connection((address, port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError(f"{proc.args!r} not listening:\n{log.read_text()}") from None
            time.sleep(0.2)


def _loopback_block() -> str:
    """`127.A.B.` with A.B free: where one egress proxy's relays listen (.2, .3, ...). Each lab
    has its own, so a relay another run left behind (a killed test run's) never answers for
    this one's services; a block with anything listening on port 80 is skipped."""
    def answers(address: str) -> bool:
        with socket.socket() as probe:
            probe.settimeout(0.2)
            return probe.connect_ex((address, 80)) == 0

    rng = random.SystemRandom()
    for _ in range(100):
        block = f"127.{rng.randrange(1, 255)}.{rng.randrange(0, 256)}."
        if not any(answers(f"{block}{host}") for host in range(2, 6)):
            return block
    raise AssertionError("no free 127.x.y.0/24 block for the proxy's relays")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def s3_server(workdir: Path, ca_cert: Path, ca_key: Path) -> Iterator[tuple[str, int]]:
    """moto_server over TLS for the S3 endpoints' names; yields (host-side URL, port)."""
    binary = Path(sys.executable).parent / "moto_server"
    assert binary.exists(), "moto_server missing: install the test extras (moto[server])"
    cert, key = leaf_certificate(ca_cert, ca_key, workdir / "s3-tls",
                                 addresses.HOSTS[addresses.S3])
    port = free_port()
    log = workdir / "moto_server.log"
    with log.open("wb") as out:
        # Path-style only, as Safespring's endpoints: moto would otherwise read the "s3" of
        # s3.sto1.safedc.net as part of a virtual-hosted bucket name.
        proc = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port), "-s",
                                 "-c", str(cert), "-k", str(key)],
                                stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, **FAKE_AWS_ENV,
                                     "S3_IGNORE_SUBDOMAIN_BUCKETNAME": "true"})
    try:
        _wait_port(port, proc, log)
        yield f"https://127.0.0.1:{port}", port
    finally:
        _stop(proc)


class Mirror:
    """An empty flat package repository over HTTP: `apt-get update` succeeds, installs nothing
    new (the image holds every package). `down()` makes it refuse connections."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        packages = b""
        (root / "Packages").write_bytes(packages)
        digest = hashlib.sha256(packages).hexdigest()
        (root / "Release").write_text(
            "Origin: safespring-blueprints VM tests\nLabel: empty\nSuite: vm\nCodename: vm\n"
            f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S UTC', time.gmtime())}\n"
            f"SHA256:\n {digest} 0 Packages\n")
        handler = _quiet_handler(root)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _quiet_handler(root: Path) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class Acme:
    """pebble (a real ACME server) behind a TLS proxy named like Let's Encrypt's API.

    The generated Caddyfile names Let's Encrypt's directory URL; pebble serves its directory at
    /dir, so the proxy maps that one path and passes everything else through (pebble builds its
    URLs from the Host header, so they lead back through the proxy). pebble validates the
    TLS-ALPN-01 challenge on `tls_port`, where the harness forwards to the guest's 443, and
    resolves every name to 127.0.0.1 through pebble-challtestsrv."""

    def __init__(self, workdir: Path, ca_cert: Path, ca_key: Path, tls_port: int) -> None:
        for tool in ("pebble", "pebble-challtestsrv"):
            assert shutil.which(tool), f"{tool} is not installed (apt-get install pebble)"
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        cert, key = leaf_certificate(ca_cert, ca_key, workdir / "tls",
                                     (*addresses.HOSTS[addresses.ACME], "localhost"))
        self.pebble_port, mgmt, dns = free_port(), free_port(), free_port()
        self.management = f"https://127.0.0.1:{mgmt}"
        config = workdir / "pebble.json"
        config.write_text(json.dumps({"pebble": {
            "listenAddress": f"127.0.0.1:{self.pebble_port}",
            "managementListenAddress": f"127.0.0.1:{mgmt}",
            "certificate": str(cert), "privateKey": str(key),
            "httpPort": free_port(), "tlsPort": tls_port,
            "ocspResponderURL": "", "externalAccountBindingRequired": False}}))
        self.procs: list[subprocess.Popen[bytes]] = []
        dns_log = workdir / "challtestsrv.log"
        with dns_log.open("wb") as out:
            self.procs.append(subprocess.Popen(
                ["pebble-challtestsrv", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
                 "-dns01", f"127.0.0.1:{dns}", "-http01", "", "-https01", "", "-tlsalpn01", "",
                 "-management", f"127.0.0.1:{free_port()}"],
                stdout=out, stderr=subprocess.STDOUT))
        log = workdir / "pebble.log"
        with log.open("wb") as out:
            self.procs.append(subprocess.Popen(
                ["pebble", "-config", str(config), "-dnsserver", f"127.0.0.1:{dns}"],
                stdout=out, stderr=subprocess.STDOUT,
                env={**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"}))
        _wait_port(self.pebble_port, self.procs[-1], log)
        self.proxy = _AcmeProxy(cert, key, self.pebble_port)
        self.port = self.proxy.port

    def roots(self) -> str:
        """PEM of the root that signs pebble's certificates (changes with every start)."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(f"{self.management}/roots/0", context=ctx) as resp:
            return resp.read().decode()

    def close(self) -> None:
        self.proxy.close()
        for proc in self.procs:
            _stop(proc)


class _AcmeProxy:
    def __init__(self, cert: Path, key: Path, upstream: int) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        upstream_ctx = ssl.create_default_context()
        upstream_ctx.check_hostname = False
        upstream_ctx.verify_mode = ssl.CERT_NONE

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                path = "/dir" if self.path == "/directory" else self.path
                conn = http.client.HTTPSConnection("127.0.0.1", upstream, context=upstream_ctx,
                                                   timeout=30)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "content-length")}
                conn.request(self.command, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "content-length", "transfer-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_HEAD = _forward

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class EgressProxy:
    """The deployment's egress proxy, run on the host: the real squid on the squid.conf the
    generator wrote for the `egress-proxy` group, with only what running it on a shared host
    needs changed (a free port on 127.0.0.1, the access log in a file instead of syslog, logs
    and pid in a directory of its own, no kept-alive upstream connections) and a hosts file
    that sends the allowed names to the host's services. squid connects to the standard ports
    the guest asked for (80, 443), so each service gets its own loopback address where socat
    relays those ports to it.

    The guest of a private group reaches only this proxy (and the deployment's flows): the
    names on the allow-list pass, everything else is refused and logged."""

    def __init__(self, workdir: Path, squid_conf: str,
                 routes: dict[tuple[str, ...], tuple[int, int]]) -> None:
        """`routes`: names -> (port the guest asks for, port of the service on 127.0.0.1)."""
        binary = shutil.which("squid") or "/usr/sbin/squid"
        assert os.path.exists(binary), "squid is not installed (apt-get install squid)"
        # squid started as root works as the `proxy` user: a directory it can write.
        self.dir = Path(tempfile.mkdtemp(prefix="ssb-vm-squid-"))
        self.dir.chmod(0o777)
        self.access_log = self.dir / "access.log"
        self.relays: list[subprocess.Popen[bytes]] = []
        hosts = []
        block = _loopback_block()
        for i, (names, (port, target)) in enumerate(routes.items(), start=2):
            address = f"{block}{i}"
            hosts.append(f"{address} {' '.join(names)}")
            relay_log = self.dir / f"relay-{i}.log"
            with relay_log.open("wb") as out:
                relay = subprocess.Popen(
                    ["socat", f"TCP4-LISTEN:{port},bind={address},fork,reuseaddr",
                     f"TCP4:127.0.0.1:{target}"], stdout=out, stderr=subprocess.STDOUT)
            self.relays.append(relay)
            # It must be this relay that answers there (a bind failure makes socat exit).
            _wait_port(port, relay, relay_log, address=address)
        (self.dir / "hosts").write_text("\n".join(hosts) + "\n")
        self.port = free_port()
        conf = []
        # The guest's client list is written at boot from its metadata; here the VMs reach the
        # proxy through QEMU's user network and socat, from 127.0.0.1 (the loopback line).
        (self.dir / "clients.acl").write_text(f"{addresses.GUEST_NETWORK}\n")
        for line in squid_conf.splitlines():
            word = line.split()[0] if line.split() else ""
            if word in ("http_port", "access_log", "cache_log", "pid_filename"):
                continue
            if line.startswith("acl ssb_clients src \""):
                line = f'acl ssb_clients src "{self.dir}/clients.acl"'
            conf.append(line)
        conf += [f"http_port 127.0.0.1:{self.port}", f"access_log stdio:{self.access_log}",
                 f"cache_log {self.dir}/cache.log", f"pid_filename {self.dir}/squid.pid",
                 f"hosts_file {self.dir}/hosts",
                 # The harness's Tang runs one tangd per connection for at most 30 s
                 # (tests/guest/guest_harness.py): a kept-alive upstream connection outlives it.
                 "server_persistent_connections off"]
        (self.dir / "squid.conf").write_text("\n".join(conf) + "\n")
        log = self.dir / "squid.out"
        with log.open("wb") as out:
            self.proc = subprocess.Popen([binary, "-N", "-f", str(self.dir / "squid.conf")],
                                         stdout=out, stderr=subprocess.STDOUT)
        _wait_port(self.port, self.proc, log)

    def log_text(self) -> str:
        return self.access_log.read_text() if self.access_log.exists() else ""

    def close(self) -> None:
        _stop(self.proc)
        for relay in self.relays:
            _stop(relay)
        shutil.rmtree(self.dir, ignore_errors=True)
