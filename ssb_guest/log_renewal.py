#!/usr/bin/python3
"""ssb-log-renewal: the log collector's certificate renewal service (mutual TLS, port 6515).

Installed by safespring-blueprints on the central log collector, run by ssb-log-renewal.service.
A client whose certificate nears its end (`ssb-log-pki renew`, daily) sends a certificate
signing request for a key it made itself, over TLS authenticated by the certificate it still
holds. The caller's certificate must chain to the log CA and not be on the CA's CRL (both read
again whenever they change), and `ssb-log-pki sign` then checks that it is still valid in the CA
database and that the call comes from the address the client is bound to, and signs. The answer
is the new certificate (PEM), or 403 with the reason.

Usage: ssb-log-renewal [--dir DIR] [--port PORT] [--bind ADDRESS]
Python 3.10 standard library only (see ssb_guest/__init__.py).
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
from typing import Any

PROG = "ssb-log-renewal"
DIR = "/etc/safespring-blueprints/logging"
PKI = os.environ.get("SSB_LOG_PKI", "/usr/local/sbin/ssb-log-pki")
MAX_REQUEST = 8192
TIMEOUT = 30.0


def log(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


class Contexts:
    """The TLS context, made again when the CA, the CRL or the collector's certificate change."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.files = [os.path.join(directory, name)
                      for name in ("ca.pem", "crl.pem", "server.pem", "server.key")]
        self.stamp: tuple[float, ...] = ()
        self.context: ssl.SSLContext | None = None

    def current(self) -> ssl.SSLContext:
        stamp = tuple(os.stat(path).st_mtime_ns for path in self.files)
        if self.context is None or stamp != self.stamp:
            ca, crl, cert, key = self.files
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_cert_chain(cert, key)
            ctx.load_verify_locations(cafile=ca)
            ctx.load_verify_locations(cafile=crl)  # a CRL in PEM: revoked callers fail the handshake
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
            self.context, self.stamp = ctx, stamp
        return self.context


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = PROG
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        log(f"{self.client_address[0]} {format % args}")

    def _answer(self, status: int, body: str, kind: str = "text/plain") -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        if self.path != "/renew":
            self._answer(404, "not found\n")
            return
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_REQUEST:
            self._answer(400, "a certificate signing request of at most 8 KiB\n")
            return
        csr = self.rfile.read(length)
        peer = ipaddress.ip_address(self.client_address[0])
        if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped:
            peer = peer.ipv4_mapped  # an IPv4 client of the dual-stack socket
        cert = self.connection.getpeercert()  # type: ignore[attr-defined]
        names = [v for rdn in cert.get("subject", ()) for k, v in rdn if k == "commonName"]
        serial = str(cert.get("serialNumber", ""))
        if len(names) != 1:
            self._answer(403, "the certificate names no single host\n")
            return
        proc = subprocess.run([PKI, "sign", names[0], "--dir", self.server.directory,  # type: ignore[attr-defined]
                               "--peer", str(peer), "--serial", serial],
                              input=csr, capture_output=True, timeout=60, check=False)
        if proc.returncode != 0:
            reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["refused"]
            log(f"refused {names[0]} from {peer}: {reason[0]}")
            self._answer(403, reason[0] + "\n")
            return
        log(f"renewed {names[0]} ({peer})")
        self._answer(200, proc.stdout.decode("ascii"), "application/x-pem-file")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], directory: str) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.directory = directory
        self.contexts = Contexts(directory)
        super().__init__(address, Handler)

    def get_request(self) -> tuple[Any, Any]:
        raw, addr = self.socket.accept()
        raw.settimeout(TIMEOUT)
        return raw, addr

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            tls = self.contexts.current().wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log(f"{client_address[0]}: TLS refused: {exc}")
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n", 1)[0])
    parser.add_argument("--dir", default=DIR)
    parser.add_argument("--port", type=int, default=6515)
    parser.add_argument("--bind", default="::")
    args = parser.parse_args(argv)
    server = Server((args.bind, args.port), args.dir)
    log(f"listening on port {args.port}")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
