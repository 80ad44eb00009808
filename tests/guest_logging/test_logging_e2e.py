"""End to end on loopback: the collector's first-boot PKI command, a collector and clients as
separate real rsyslogd processes, mutual TLS, and what must never be accepted or sent.

Test-only overrides: a temporary root for every path, a free port on 127.0.0.1, and a test
input (an imuxsock socket in the temporary root) instead of the system log socket.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from generator.features.logging.guest import TLS_DIR, log_client, log_collector
from tests.guest_logging.harness import (
    Listener,
    free_port,
    logger,
    need,
    remote_text,
    rsyslogd,
    run,
    wait_for,
    write_files,
)

HOST = "web-1.example"
# The client retries a suspended connection every 10 s, so delivery takes 0-20 s; the bound is
# a hang guard (a line that never arrives), not a speed claim.
DELIVERY_TIMEOUT = 120.0


@dataclass
class Site:
    tmp: Path
    port: int
    collector_root: Path
    collector: Listener
    pki_script: Path
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def pki_dir(self) -> Path:
        return self.collector_root / TLS_DIR


def _client_main(root: Path, socket_path: Path, hostname: str) -> Path:
    main = root / "test-main.conf"
    (root / "work").mkdir(exist_ok=True)
    main.write_text("\n".join([
        f'global(workDirectory="{root}/work")',
        'module(load="imuxsock" SysSock.Use="off")',
        f'input(type="imuxsock" Socket="{socket_path}" HostName="{hostname}")',
        f'include(file="{root}/etc/rsyslog.d/60-safespring-blueprints-forward.conf")',
        "",
    ]))
    return main


def _client_root(tmp: Path, name: str, port: int, target: str = "127.0.0.1") -> Path:
    root = tmp / name
    root.mkdir()
    config = log_client(target, retention_days=7, intrusion_detection=False, root=f"{root}/",
                        collector_port=port)
    write_files(config)
    (root / "var/spool/rsyslog").mkdir(parents=True)
    (root / TLS_DIR).mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    need("openssl")
    tmp = tmp_path_factory.mktemp("logging-e2e")
    port = free_port()
    root = tmp / "collector"
    root.mkdir()
    config = log_collector(retention_days=7, clients_port=port, root=f"{root}/",
                           bind_address="127.0.0.1")
    write_files(config)
    # The collector's first-boot PKI command, exactly as generated (paths under the test root).
    pki = [c for c in config.commands if len(c) > 1 and c[1] == "init"]
    assert len(pki) == 1
    started = time.monotonic()
    result = run(pki[0], timeout=60)
    assert result.returncode == 0, result.stderr
    timings = {"pki_init_s": time.monotonic() - started}
    key = root / TLS_DIR / "private/ca.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert (root / TLS_DIR / "private").stat().st_mode & 0o777 == 0o700
    # The collector's own rsyslogd runs on its configuration file alone, as the unit does.
    (root / "var/lib/ssb-log-collector").mkdir(parents=True)
    main = root / "etc/safespring-blueprints/logging/collector.conf"
    collector = Listener(main, port)
    try:
        yield Site(tmp, port, root, collector, root / "usr/local/sbin/ssb-log-pki", timings)
    finally:
        collector.close()
    print(f"\nlogging e2e timings: {site_timings(timings)}")


def site_timings(timings: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.2f}" for k, v in sorted(timings.items()))


@pytest.fixture(scope="module")
def shipping(site: Site) -> Iterator[tuple[Path, Path]]:
    """A client started before it has certificates, then given them the documented way."""
    root = _client_root(site.tmp, "client", site.port)
    sock = root / "log.sock"
    with rsyslogd(_client_main(root, sock, HOST)):
        logger(sock, "before", "QUEUED-BEFORE-CERTIFICATES")
        time.sleep(2)
        assert "QUEUED-BEFORE-CERTIFICATES" not in remote_text(site.collector_root)
        # What the admin does: issue on the collector, copy, install on the client.
        issued = run([str(site.pki_script), "issue", HOST, "--dir", str(site.pki_dir),
                      "--address", "127.0.0.1"])
        assert issued.returncode == 0, issued.stderr
        site.collector.restart()  # the trust list changed (systemctl try-restart in the guest)
        bundle = site.pki_dir / "issued" / HOST
        hosts = root / "hosts"
        hosts.write_text("127.0.0.1 localhost\n")
        installed = run([str(root / "usr/local/sbin/ssb-log-pki"), "install", str(bundle),
                         "--dir", str(root / TLS_DIR), "--hosts", str(hosts)])
        assert installed.returncode == 0, installed.stderr
        # The bundle carries the collector's address to the client's hosts file.
        assert hosts.read_text().splitlines() == [
            "127.0.0.1 localhost",
            "127.0.0.1 collector.logging.safespring-blueprints.internal "
            "# safespring-blueprints: log collector"]
        assert (root / TLS_DIR / "client.key").stat().st_mode & 0o777 == 0o640
        site.timings["queued_delivery_s"] = wait_for(
            lambda: "QUEUED-BEFORE-CERTIFICATES" in remote_text(site.collector_root),
            DELIVERY_TIMEOUT, step=0.25)
        yield root, sock


def _deliver(site: Site, sock: Path, marker: str) -> float:
    logger(sock, "e2e", marker)
    return wait_for(lambda: marker in remote_text(site.collector_root), DELIVERY_TIMEOUT)


def test_queued_message_arrives_in_the_per_client_file(site: Site, shipping: tuple[Path, Path]
                                                       ) -> None:
    """Filed under the peer's address (a client cannot forge it); the reported name is on the
    line."""
    assert [p.name for p in (site.collector_root / "var/log/remote").iterdir()] == ["127.0.0.1"]
    files = list((site.collector_root / "var/log/remote/127.0.0.1").glob("*.log"))
    assert len(files) == 1, files
    text = files[0].read_text()
    assert "QUEUED-BEFORE-CERTIFICATES" in text
    assert f" 127.0.0.1 {HOST} " in text


def test_live_message_arrives(site: Site, shipping: tuple[Path, Path]) -> None:
    site.timings["live_delivery_s"] = _deliver(site, shipping[1], "LIVE-MESSAGE")


def _tls_context(cert: Path | None, key: Path | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert and key:
        ctx.load_cert_chain(cert, key)
    return ctx


def _frame(marker: str) -> bytes:
    msg = f"<13>1 2026-11-27T12:00:00Z {HOST} intruder - - - {marker}".encode()
    return str(len(msg)).encode() + b" " + msg + b"\n" + msg + b"\n"


def test_plaintext_is_never_accepted(site: Site, shipping: tuple[Path, Path]) -> None:
    with socket.create_connection(("127.0.0.1", site.port), timeout=5) as s:
        s.sendall(_frame("PLAINTEXT-MARKER"))
        s.settimeout(5)
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass  # reset by the collector is fine too
    _deliver(site, shipping[1], "BARRIER-AFTER-PLAINTEXT")  # the collector processed it by now
    assert "PLAINTEXT-MARKER" not in remote_text(site.collector_root)


def _tls_attempt(site: Site, ctx: ssl.SSLContext, marker: str) -> None:
    try:
        with socket.create_connection(("127.0.0.1", site.port), timeout=5) as s, \
                ctx.wrap_socket(s) as t:
            t.sendall(_frame(marker))
            t.settimeout(5)
            while t.recv(4096):
                pass
    except (OSError, ssl.SSLError):
        pass


def test_client_certificate_from_another_ca_is_refused(site: Site, shipping: tuple[Path, Path]
                                                       ) -> None:
    other = site.tmp / "other-ca"
    assert run([str(site.pki_script), "init", "--dir", str(other)]).returncode == 0
    assert run([str(site.pki_script), "issue", "mallory.example", "--dir", str(other),
                "--address", "127.0.0.1"]
               ).returncode == 0
    bundle = other / "issued/mallory.example"
    # a real rsyslog client that trusts the real collector but holds a foreign certificate
    root = _client_root(site.tmp, "mallory", site.port)
    tls = root / TLS_DIR
    (tls / "ca.pem").write_bytes((site.pki_dir / "ca.pem").read_bytes())
    (tls / "client.pem").write_bytes((bundle / "client.pem").read_bytes())
    (tls / "client.key").write_bytes((bundle / "client.key").read_bytes())
    sock = root / "log.sock"
    with rsyslogd(_client_main(root, sock, "mallory.example")) as mallory:
        logger(sock, "e2e", "FOREIGN-CA-RSYSLOG")
        # the collector says why: rsyslog's gtls "certificate invalid: signer not found"
        wait_for(lambda: "signer not found" in site.collector.output()
                 and "CN=mallory.example" in site.collector.output(), 20)
        assert mallory.proc.poll() is None
    # the same with a raw TLS client, and with no client certificate at all
    _tls_attempt(site, _tls_context(bundle / "client.pem", bundle / "client.key"),
                 "FOREIGN-CA-RAW")
    _tls_attempt(site, _tls_context(None, None), "NO-CERT-RAW")
    _deliver(site, shipping[1], "BARRIER-AFTER-FOREIGN")
    text = remote_text(site.collector_root)
    for marker in ("FOREIGN-CA-RSYSLOG", "FOREIGN-CA-RAW", "NO-CERT-RAW"):
        assert marker not in text
    assert [p.name for p in (site.collector_root / "var/log/remote").iterdir()] == ["127.0.0.1"]


def test_collector_tls_policy(site: Site, shipping: tuple[Path, Path]) -> None:
    """TLS 1.2 with AEAD or TLS 1.3 only; the client's own certificate is a valid one."""
    cert, key = shipping[0] / TLS_DIR / "client.pem", shipping[0] / TLS_DIR / "client.key"

    def version(ctx: ssl.SSLContext) -> str | None:
        try:
            with socket.create_connection(("127.0.0.1", site.port), timeout=5) as s, \
                    ctx.wrap_socket(s) as t:
                return t.version()
        except (OSError, ssl.SSLError):
            return None

    assert version(_tls_context(cert, key)) == "TLSv1.3"
    tls12 = _tls_context(cert, key)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    assert version(tls12) == "TLSv1.2"
    cbc = _tls_context(cert, key)
    cbc.maximum_version = ssl.TLSVersion.TLSv1_2
    cbc.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:@SECLEVEL=0")
    assert version(cbc) is None
    old = _tls_context(cert, key)
    old.set_ciphers("ALL:@SECLEVEL=0")
    with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated in Python: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        old.maximum_version = ssl.TLSVersion.TLSv1_1
    assert version(old) is None


class _Sink:
    """A plaintext TCP listener that records every byte a client sends it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received = bytearray()
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.server.settimeout(0.2)
        while self.server.fileno() != -1:
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.settimeout(0.5)
            with conn:
                for _ in range(10):
                    try:
                        data = conn.recv(65536)
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    self.received += data

    def close(self) -> None:
        self.server.close()
        self.thread.join(timeout=5)


def test_client_never_sends_plaintext(site: Site, shipping: tuple[Path, Path]) -> None:
    """Pointed at a plaintext listener (a rogue or misconfigured collector), with and without
    certificates, the client sends at most a TLS handshake, never a log line."""
    sink = _Sink()
    try:
        root = _client_root(site.tmp, "rogue-target", sink.port)
        sock = root / "log.sock"
        with rsyslogd(_client_main(root, sock, "rogue.example")):
            logger(sock, "e2e", "SECRET-NO-CERTS")
            time.sleep(3)
            for name in ("ca.pem", "client.pem", "client.key"):
                (root / TLS_DIR / name).write_bytes((shipping[0] / TLS_DIR / name).read_bytes())
            logger(sock, "e2e", "SECRET-WITH-CERTS")
            wait_for(lambda: sink.connections > 0 and len(sink.received) > 0, DELIVERY_TIMEOUT)
            time.sleep(1)
    finally:
        sink.close()
    data = bytes(sink.received)
    assert data[:1] == b"\x16", data[:64]  # a TLS handshake record, nothing else
    assert b"SECRET" not in data


def test_retention_commands_delete_only_old_files(tmp_path: Path) -> None:
    """The timers' real commands, run on a temporary /var/log (the collector's volume a
    tmpfs, so the size rule sees a known fill level: here it is nearly empty)."""
    import os
    import subprocess

    from tests.guest_logging.harness import file_content, unit_lines

    config = log_collector(retention_days=3, root=f"{tmp_path}/")
    write_files(config)
    remote = tmp_path / "var/log/remote"
    remote.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(remote)], check=True)
    try:
        old = time.time() - 4 * 86400
        fresh = time.time() - 2 * 86400
        files = {
            "var/log/syslog": old, "var/log/syslog.1": old, "var/log/syslog.2.gz": old,
            "var/log/apt/history.log.1.gz": old, "var/log/auth.log.1": fresh,
            "var/log/journal/abc/system@1.journal": old,
            "var/log/remote/10.0.0.5/2026-01-01.log": old,
            "var/log/remote/10.0.0.5/2026-01-05.log": fresh,
            "var/log/remote/10.0.0.9/2026-01-01.log": old,
        }
        for rel, mtime in files.items():
            p = tmp_path / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("x\n")
            os.utime(p, (mtime, mtime))
        for unit in ("ssb-log-retention.service", "ssb-log-remote-retention.service"):
            for argv in unit_lines(file_content(config, unit), "ExecStart"):
                result = run(argv, timeout=30)
                assert result.returncode == 0, result.stderr
        left = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                if p.is_file() and "var/log" in str(p)}
        assert left == {
            "var/log/syslog",  # the live file: logrotate's job, rotated copies are ours
            "var/log/auth.log.1",
            "var/log/journal/abc/system@1.journal",  # journald applies MaxRetentionSec itself
            "var/log/remote/10.0.0.5/2026-01-05.log",
        }
        assert not (remote / "10.0.0.9").exists()
    finally:
        subprocess.run(["umount", "-l", str(remote)], check=False)


def test_aide_baseline_and_check(tmp_path: Path) -> None:
    """AIDE's generated units run on a small temporary tree: clean, then a change is reported."""
    from tests.guest_logging.harness import file_content, unit_lines

    need("aide")
    config = log_client(None, retention_days=3, intrusion_detection=True, root=f"{tmp_path}/")
    write_files(config)
    for rel in ("etc/passwd", "etc/ssh/sshd_config", "usr/bin/tool", "boot/vmlinuz"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"{rel}\n")
    init = file_content(config, "ssb-aide-init.service")
    started = time.monotonic()
    # What systemd does before the service's namespace exists: StateDirectory=, 0700.
    ((state,),) = unit_lines(init, "StateDirectory")
    ((mode,),) = unit_lines(init, "StateDirectoryMode")
    (tmp_path / "var/lib" / state).mkdir(parents=True, mode=int(mode, 8))
    assert unit_lines(init, "ReadWritePaths") == []  # 226/NAMESPACE on a first boot
    for key in ("ExecStartPre", "ExecStart", "ExecStartPost"):
        for argv in unit_lines(init, key):
            result = run(argv, timeout=120)
            assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "var/lib/aide/safespring-blueprints/aide.db.gz").exists()
    check = file_content(config, "ssb-aide-check.service")
    (argv,) = unit_lines(check, "ExecStart")
    clean = run(argv, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (tmp_path / "etc/passwd").write_text("mallory:x:0:0::/root:/bin/sh\n")
    (tmp_path / "usr/bin/backdoor").write_text("#!/bin/sh\n")
    changed = run(argv, timeout=120)
    assert changed.returncode != 0
    assert changed.returncode & 1 and changed.returncode & 4  # added and changed entries
    assert f"{tmp_path}/etc/passwd" in changed.stdout
    assert f"{tmp_path}/usr/bin/backdoor" in changed.stdout
    print(f"\naide init+2 checks on a small tree: {time.monotonic() - started:.2f} s")
