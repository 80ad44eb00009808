"""The generated egress proxy configuration, run by the real squid from Debian on loopback.

A plain HTTP origin on 127.0.0.1 stands for the outside; a hosts file names it `allowed.test`,
`tang.test` (on the list as a Tang server) and `unlisted.test` (not on the list). What passes
and what is refused is squid's own verdict on the generated squid.conf; every request, refused
ones included, must be in squid's access log (syslog in production, a file here).
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from generator.features.egress import Allowed, squid_conf

# Hang guard for squid's start and each request through it (both well under a second here).
TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Origin(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = f"origin {self.command} {self.headers.get('Host')}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


class Squid:
    """squid on 127.0.0.1:port with the generated configuration; origin on origin_port."""

    def __init__(self, directory: Path, port: int, origin_port: int) -> None:
        self.directory, self.port, self.origin_port = directory, port, origin_port
        self.access_log = directory / "access.log"

    def request(self, method: str, url: str, body: bytes | None = None,
                source: str = "127.0.0.1") -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT,
                                          source_address=(source, 0))
        try:
            conn.request(method, url, body=body)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def connect(self, target: str) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            conn.request("CONNECT", target, headers={"Host": target})
            response = conn.getresponse()
            return response.status
        finally:
            conn.close()

    def logged(self, *needles: str) -> str:
        """The access-log line holding every needle, waiting for squid to write it."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            text = self.access_log.read_text("utf-8") if self.access_log.exists() else ""
            for line in text.splitlines():
                if all(n in line for n in needles):
                    return line
            time.sleep(0.2)
        raise AssertionError(f"no access-log line with {needles}: {text!r}")


@pytest.fixture(scope="module")
def squid() -> Iterator[Squid]:
    binary = shutil.which("squid") or "/usr/sbin/squid"
    assert os.path.exists(binary), "squid is not installed (apt-get install squid)"
    # squid started as root works as the `proxy` user: a directory it can reach and write.
    directory = Path(tempfile.mkdtemp(prefix="ssb-squid-"))
    directory.chmod(0o777)
    origin = ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    origin_port = origin.server_address[1]
    hosts = directory / "hosts"
    hosts.write_text("127.0.0.1 allowed.test tang.test unlisted.test\n", "utf-8")
    port = _free_port()
    # The private subnet as ssb-egress-proxy writes it: here one loopback address stands in.
    (directory / "clients.acl").write_text("127.0.0.3/32\n", "utf-8")
    conf = squid_conf(
        [Allowed("allowed.test", "listed"), Allowed("tang.test", "tang")],
        tang_servers=[f"http://tang.test:{origin_port}"], port=port, bind="127.0.0.1",
        access_log=f"stdio:{directory}/access.log", cache_log=f"{directory}/cache.log",
        pid_file=f"{directory}/squid.pid", hosts_file=str(hosts),
        clients_file=str(directory / "clients.acl"))
    (directory / "squid.conf").write_text(conf, "utf-8")
    parse = subprocess.run([binary, "-k", "parse", "-f", str(directory / "squid.conf")],
                           capture_output=True, text=True, timeout=60)
    assert parse.returncode == 0, parse.stderr
    process = subprocess.Popen([binary, "-N", "-f", str(directory / "squid.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "squid did not listen in time"
                time.sleep(0.2)
        yield Squid(directory, port, origin_port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        origin.shutdown()
        shutil.rmtree(directory, ignore_errors=True)


def test_a_listed_host_passes(squid: Squid) -> None:
    assert squid.request("GET", f"http://allowed.test:{squid.origin_port}/pool/x.deb") == 200
    assert "TCP_MISS/200 " in squid.logged("allowed.test", "/pool/x.deb")


def test_an_unlisted_host_is_refused_and_logged(squid: Squid) -> None:
    assert squid.request("GET", f"http://unlisted.test:{squid.origin_port}/exfil") == 403
    assert "TCP_DENIED/403 " in squid.logged("unlisted.test", "/exfil")


def test_an_address_never_matches_a_listed_name(squid: Squid) -> None:
    assert squid.request("GET", f"http://127.0.0.1:{squid.origin_port}/by-address") == 403
    assert "TCP_DENIED/403 " in squid.logged("/by-address")


def test_clevis_may_post_to_tang_only(squid: Squid) -> None:
    assert squid.request("POST", f"http://tang.test:{squid.origin_port}/rec/k", b"{}") == 200
    assert squid.request("POST", f"http://allowed.test:{squid.origin_port}/upload", b"x") == 403
    assert "TCP_DENIED/403 " in squid.logged("POST", "allowed.test", "/upload")


def test_tunnels_only_to_listed_hosts_on_tls_ports(squid: Squid) -> None:
    # Refused before any connection is tried: the host is not listed, or the port is not TLS.
    assert squid.connect("unlisted.test:443") == 403
    assert "TCP_DENIED/403 " in squid.logged("CONNECT", "unlisted.test:443")
    assert squid.connect(f"allowed.test:{squid.origin_port}") == 403
    assert "TCP_DENIED/403 " in squid.logged("CONNECT", f"allowed.test:{squid.origin_port}")


def test_only_the_private_subnet_may_use_the_proxy(squid: Squid) -> None:
    """A client outside the subnet in the ACL file (here 127.0.0.2) is refused even for a
    listed host; one inside (127.0.0.3) passes."""
    url = f"http://allowed.test:{squid.origin_port}/from-"
    assert squid.request("GET", url + "outside", source="127.0.0.2") == 403
    assert "TCP_DENIED/403 " in squid.logged("127.0.0.2", "/from-outside")
    assert squid.request("GET", url + "subnet", source="127.0.0.3") == 200
    assert "TCP_MISS/200 " in squid.logged("127.0.0.3", "/from-subnet")
