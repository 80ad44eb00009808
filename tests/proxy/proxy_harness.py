"""Helpers for the live proxy tests: a throwaway PKI, a loopback backend, the real Caddy binary
started as the ``caddy`` user from the generated systemd drop-in, and raw TLS/HTTP clients.

Everything listens on 127.0.0.1 only; every wait is bounded in time.
"""

from __future__ import annotations

import datetime
import grp
import http.client
import ipaddress
import json
import os
import pwd
import shlex
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from generator.features.endpoints import ProxyConfig, tls_paths

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
IO_TIMEOUT = 5.0


def free_port() -> int:
    """An unprivileged TCP port that is free on loopback right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- PKI ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pki:
    ca_pem: bytes
    leaves: dict[str, tuple[bytes, bytes]]  # hostname -> (chain PEM, key PEM)


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def make_pki(hostnames: Sequence[str]) -> Pki:
    """A throwaway EC CA and one RSA-2048 leaf per hostname (or IP address).

    RSA leaves on purpose: the weak suites offered in the tests (ECDHE-RSA-*-CBC-SHA,
    static RSA, 3DES) all fit an RSA certificate, so only the proxy's policy can refuse them.
    """
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "proxy test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    leaves = {}
    for host in hostnames:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([_san(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        leaves[host] = (cert.public_bytes(serialization.Encoding.PEM) + ca_pem, key_pem)
    return Pki(ca_pem=ca_pem, leaves=leaves)


# --- backend --------------------------------------------------------------------------------


class _Echo(BaseHTTPRequestHandler):
    """Answers every GET with JSON describing what reached the backend."""

    label = "backend"

    def do_GET(self) -> None:
        body = json.dumps(
            {
                "backend": self.server.label,  # type: ignore[attr-defined]
                "host": self.headers.get("Host"),
                "x_forwarded_for": self.headers.get_all("X-Forwarded-For"),
                "path": self.path,
            }
        ).encode()
        self.send_response(200)  # also sends "Server: BaseHTTP/0.6 Python/3.x"
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def backend(label: str) -> Iterator[int]:
    """A plaintext HTTP server on 127.0.0.1; yields its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.label = label  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=STOP_TIMEOUT)


# --- guest root -----------------------------------------------------------------------------


def caddy_ids() -> tuple[int, int]:
    """uid and gid of the ``caddy`` user the Debian package creates (KeyError if absent)."""
    return pwd.getpwnam("caddy").pw_uid, grp.getgrnam("caddy").gr_gid


@contextmanager
def guest_root() -> Iterator[Path]:
    """A temporary directory standing in for the guest's ``/``, traversable by ``caddy``."""
    path = Path(tempfile.mkdtemp(prefix="proxy-root-", dir="/tmp"))
    try:
        path.chmod(0o755)
        uid, gid = caddy_ids()
        # What systemd and the package create on the guest: RuntimeDirectory, caddy's home.
        for sub, mode in (("run/caddy", 0o700), ("var/lib/caddy", 0o750)):
            d = path / sub
            d.mkdir(parents=True)
            d.chmod(mode)
            os.chown(d, uid, gid)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def write_files(config: ProxyConfig) -> None:
    """Write the generated files as cloud-init's write_files would (root-owned, given mode)."""
    for path, content, mode in config.files:
        p = Path(path)
        p.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        p.write_text(content)
        p.chmod(int(mode, 8))


def place_certificates(
    root: Path, name: str, chain: bytes, key: bytes, key_mode: int = 0o640
) -> None:
    """What the operator does for ``certificate: provided`` (key root:caddy 0640)."""
    crt_path, key_path = (Path(p) for p in tls_paths(name, root=f"{root}/"))
    crt_path.write_bytes(chain)
    crt_path.chmod(0o644)
    key_path.write_bytes(key)
    os.chown(key_path, 0, caddy_ids()[1])
    key_path.chmod(key_mode)


def caddy_env(root: Path) -> dict[str, str]:
    """Keep Caddy's storage inside the temporary root."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "CADDY"))}
    home = root / "var/lib/caddy"
    env.update(
        HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config")
    )
    return env


@dataclass
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    output: str
    seconds: float


def run_first_boot(config: ProxyConfig, root: Path, *, before_validate=None) -> list[CommandResult]:
    """Run the generated first-boot commands verbatim, except ``systemctl`` (no systemd here;
    its part, starting the unit's ExecStart as the caddy user, is :func:`start_caddy`).

    ``before_validate`` runs just before the validation command (the operator's moment to
    place provided certificates, after the TLS directory exists).
    """
    results = []
    for argv in config.commands:
        if argv[0] == "systemctl":
            continue
        if "validate" in argv and before_validate is not None:
            before_validate()
        t0 = time.monotonic()
        proc = subprocess.run(
            argv, capture_output=True, text=True, env=caddy_env(root), timeout=60, check=False
        )
        results.append(
            CommandResult(argv, proc.returncode, proc.stdout + proc.stderr, time.monotonic() - t0)
        )
    return results


def as_caddy_user() -> list[str]:
    """What caddy.service does before ExecStart: User=caddy, Group=caddy and
    AmbientCapabilities=CAP_NET_BIND_SERVICE (so a stray listener on port 80 would come up
    here too, and be caught)."""
    uid, gid = caddy_ids()
    return [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={gid}",
        "--init-groups",
        "--inh-caps=+net_bind_service",
        "--ambient-caps=+net_bind_service",
        "--",
    ]


def exec_start(config: ProxyConfig) -> list[str]:
    """The ExecStart command of the generated systemd drop-in (the non-empty one)."""
    dropin = next(content for path, content, _ in config.files if path.endswith(".conf"))
    starts = [
        line.split("=", 1)[1]
        for line in dropin.splitlines()
        if line.startswith("ExecStart=") and line != "ExecStart="
    ]
    assert len(starts) == 1, dropin
    return shlex.split(starts[0])


# --- the proxy process ----------------------------------------------------------------------


def listening_sockets(pid: int) -> set[tuple[str, str, int]]:
    """(protocol, address, port) of every listening TCP socket and every UDP socket of pid."""
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():  # FileNotFoundError once the process is gone
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        lines = Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]
        for line in lines:
            cols = line.split()
            local, state, inode = cols[1], cols[3], cols[9]
            if inode not in inodes:
                continue
            if proto.startswith("tcp") and state != "0A":  # 0A = LISTEN
                continue
            addr, port = local.rsplit(":", 1)
            found.add((proto, addr, int(port, 16)))
    return found


@dataclass
class Proxy:
    proc: subprocess.Popen
    log_path: Path
    start_seconds: float = 0.0
    sockets: set[tuple[str, str, int]] = field(default_factory=set)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def start_caddy(config: ProxyConfig, root: Path, https_port: int) -> Iterator[Proxy]:
    """Start the drop-in's ExecStart as the caddy user (like systemd's User=caddy); wait, at
    most START_TIMEOUT, until it listens on https_port; always stop it."""
    argv = [*as_caddy_user(), *exec_start(config)]
    log_path = root / "caddy.log"
    with open(log_path, "wb") as log:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=caddy_env(root),
            stdin=subprocess.DEVNULL,
        )
    proxy = Proxy(proc=proc, log_path=log_path)
    try:
        deadline = t0 + START_TIMEOUT
        while True:
            try:
                socks = listening_sockets(proc.pid)
            except FileNotFoundError:
                socks = set()
            if proc.poll() is not None:
                raise AssertionError(f"caddy exited with {proc.returncode}:\n{proxy.log()}")
            if any(p.startswith("tcp") and port == https_port for p, _, port in socks):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"caddy not listening after {START_TIMEOUT}s:\n{proxy.log()}")
            time.sleep(0.02)
        proxy.start_seconds = time.monotonic() - t0
        time.sleep(0.3)  # let every configured listener come up before it is inspected
        proxy.sockets = listening_sockets(proc.pid)
        yield proxy
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """Terminate, then kill after STOP_TIMEOUT; never leaves the process behind."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)


# --- clients --------------------------------------------------------------------------------


def client_context(
    ca_pem: bytes | None,
    *,
    minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
    maximum: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
    ciphers: str | None = None,
) -> ssl.SSLContext:
    """A client that may offer old versions and weak suites (SECLEVEL=0), so a refusal we
    observe comes from the server, not from the client's own policy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLSv1/TLSv1_1 are deprecated
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = minimum
        ctx.maximum_version = maximum
    ctx.set_ciphers(ciphers or "DEFAULT:@SECLEVEL=0")
    if ca_pem is None:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx.load_verify_locations(cadata=ca_pem.decode())
    return ctx


def handshake(port: int, sni: str | None, ctx: ssl.SSLContext) -> tuple[str, str]:
    """(negotiated version, cipher) of a TLS handshake with 127.0.0.1:port."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as raw,
        ctx.wrap_socket(raw, server_hostname=sni) as tls,
    ):
        version, cipher = tls.version(), tls.cipher()
        assert version is not None and cipher is not None
        return version, cipher[0]


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self) -> dict:
        return json.loads(self.body)


def https_get(
    port: int,
    sni: str,
    ctx: ssl.SSLContext,
    *,
    host: str | None = None,
    path: str = "/",
    headers: Sequence[tuple[str, str]] = (),
) -> Response:
    """HTTP/1.1 GET over TLS to 127.0.0.1:port with the given SNI (like curl --resolve)."""
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host or sni}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers),
        "",
        "",
    ]
    with (
        socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as raw,
        ctx.wrap_socket(raw, server_hostname=sni) as tls,
    ):
        tls.sendall("\r\n".join(lines).encode())
        resp = http.client.HTTPResponse(tls)
        resp.begin()
        return Response(resp.status, resp.getheaders(), resp.read())


def plaintext_exchange(port: int, request: bytes) -> bytes:
    """Send plaintext bytes to 127.0.0.1:port; return whatever comes back before close."""
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as s:
        s.sendall(request)
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except (ConnectionResetError, TimeoutError):
            pass
        return b"".join(chunks)


def tcp_refused(port: int) -> bool:
    """True if nothing accepts TCP connections on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT).close()
    except ConnectionRefusedError:
        return True
    return False


def raw_tls12_hello(port: int, sni: str, suites: Sequence[int]) -> tuple[int, bytes]:
    """Send a hand-made TLS 1.2 ClientHello offering exactly ``suites`` (including ones that
    OpenSSL 3 can no longer offer, such as RC4 and 3DES); return the type and body of the
    server's first record (22 = handshake, i.e. a ServerHello: accepted; 21 = alert)."""

    def u8(n: int) -> bytes:
        return n.to_bytes(1, "big")

    def u16(n: int) -> bytes:
        return n.to_bytes(2, "big")

    def ext(kind: int, body: bytes) -> bytes:
        return u16(kind) + u16(len(body)) + body

    name = sni.encode()
    server_name = u16(len(name) + 3) + u8(0) + u16(len(name)) + name
    groups = b"".join(u16(g) for g in (0x001D, 0x0017, 0x0018))  # x25519, P-256, P-384
    sigalgs = b"".join(u16(a) for a in (0x0401, 0x0804, 0x0403, 0x0201))
    extensions = (
        ext(0x0000, server_name)
        + ext(0x000A, u16(len(groups)) + groups)
        + ext(0x000B, b"\x01\x00")
        + ext(0x000D, u16(len(sigalgs)) + sigalgs)
        + ext(0xFF01, b"\x00")
    )
    cipher_bytes = b"".join(u16(s) for s in suites)
    body = (
        b"\x03\x03"
        + os.urandom(32)
        + u8(0)
        + u16(len(cipher_bytes))
        + cipher_bytes
        + b"\x01\x00"
        + u16(len(extensions))
        + extensions
    )
    handshake_msg = u8(1) + len(body).to_bytes(3, "big") + body
    record = b"\x16\x03\x01" + u16(len(handshake_msg)) + handshake_msg
    with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT) as s:
        s.sendall(record)
        header = b""
        while len(header) < 5:
            chunk = s.recv(5 - len(header))
            if not chunk:
                return -1, b""
            header += chunk
        length = int.from_bytes(header[3:5], "big")
        payload = b""
        while len(payload) < min(length, 64):
            chunk = s.recv(min(length, 64) - len(payload))
            if not chunk:
                break
            payload += chunk
        return header[0], payload
