"""The log PKI's lifecycle with real daemons on loopback: short certificate lives, revocation
the listener honours, renewal by the client itself over mutual TLS, bound to its address.

The audit: any certificate from the log CA was accepted from any address; certificates lasted
825 days with no revocation. A collector (the generated configuration, its own rsyslogd) and
real rsyslog clients; ssb-log-renewal, the collector's renewal service, on a loopback port;
`ssb-log-pki renew` run as the client's timer runs it (curl, from a chosen source address).
The listener is restarted by the test where systemd's `try-restart` would do it.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.features.logging.guest import TLS_DIR, log_collector
from tests.guest_logging.harness import (
    PKI_ENV,
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
from tests.guest_logging.test_logging_e2e import _client_main, _client_root

DELIVERY_TIMEOUT = 40.0  # hang guard: the client retries a refused connection every 10 s


@dataclass
class Collector:
    root: Path
    port: int
    renewal_port: int
    listener: Listener
    renewal_log: Path

    @property
    def tls(self) -> Path:
        return self.root / TLS_DIR

    def pki(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([str(self.root / "usr/local/sbin/ssb-log-pki"), *args, "--dir", str(self.tls)])


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collector]:
    for tool in ("openssl", "curl", "rsyslogd"):
        need(tool)
    tmp = tmp_path_factory.mktemp("log-pki")
    root = tmp / "collector"
    port, renewal_port = free_port(), free_port()
    config = log_collector(retention_days=7, clients_port=port, renewal_port=renewal_port,
                           root=f"{root}/", bind_address="127.0.0.1")
    write_files(config)
    (init,) = [c for c in config.commands if len(c) > 1 and c[1] == "init"]
    assert run(init).returncode == 0
    (root / "var/lib/ssb-log-collector").mkdir(parents=True)
    listener = Listener(root / "etc/safespring-blueprints/logging/collector.conf", port)
    (service,) = [t for p, t, _ in config.files if p.endswith("ssb-log-renewal.service")]
    (argv,) = [line.split("=", 1)[1].split() for line in service.splitlines()
               if line.startswith("ExecStart=")]
    renewal = subprocess.Popen([sys.executable, *argv], env={
        **os.environ, **PKI_ENV, "SSB_LOG_PKI": str(root / "usr/local/sbin/ssb-log-pki")},
        stdout=subprocess.DEVNULL, stderr=(tmp / "renewal.log").open("wb"))
    try:
        yield Collector(root, port, renewal_port, listener, tmp / "renewal.log")
    finally:
        renewal.terminate()
        renewal.wait(timeout=10)
        listener.close()


@dataclass
class Client:
    root: Path
    sock: Path

    def pki(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([str(self.root / "usr/local/sbin/ssb-log-pki"), *args,
                    "--dir", str(self.root / TLS_DIR)])


def _client(collector: Collector, host: str, *extra: str) -> Client:
    issued = collector.pki("issue", host, "--address", "127.0.0.1", *extra)
    assert issued.returncode == 0, issued.stderr
    collector.listener.restart()
    root = _client_root(collector.root.parent, host, collector.port)
    (root / "hosts").write_text("")
    client = Client(root, root / "log.sock")
    installed = client.pki("install", str(collector.tls / "issued" / host),
                           "--hosts", str(root / "hosts"))
    assert installed.returncode == 0, installed.stderr
    return client


def _end(cert: Path) -> dt.datetime:
    out = run(["openssl", "x509", "-in", str(cert), "-noout", "-enddate"]).stdout
    return dt.datetime.strptime(out.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")


def _delivered(collector: Collector, marker: str) -> bool:
    return marker in remote_text(collector.root)


def test_certificates_are_short_lived(collector: Collector) -> None:
    client = _client(collector, "short.example")
    days = (_end(client.root / TLS_DIR / "client.pem") - dt.datetime.utcnow()).days
    assert 28 <= days <= 30, days
    server_days = (_end(collector.tls / "server.pem") - dt.datetime.utcnow()).days
    assert server_days <= 90, server_days
    # Nothing to do yet: renewal starts ten days before the end.
    quiet = client.pki("renew", "--port", str(collector.renewal_port))
    assert quiet.returncode == 0 and "valid for more than 10 days" in quiet.stdout


def test_a_revoked_client_is_refused_the_others_are_not(collector: Collector) -> None:
    good, bad = _client(collector, "good.example"), _client(collector, "bad.example")
    with rsyslogd(_client_main(good.root, good.sock, "good.example")), \
            rsyslogd(_client_main(bad.root, bad.sock, "bad.example")):
        logger(good.sock, "t", "GOOD-BEFORE")
        logger(bad.sock, "t", "BAD-BEFORE")
        wait_for(lambda: _delivered(collector, "GOOD-BEFORE")
                 and _delivered(collector, "BAD-BEFORE"), DELIVERY_TIMEOUT)

        revoked = collector.pki("revoke", "bad.example")
        assert revoked.returncode == 0, revoked.stderr
        crl = run(["openssl", "crl", "-in", str(collector.tls / "crl.pem"), "-noout", "-text"])
        assert "Revoked Certificates:" in crl.stdout
        collector.listener.restart()  # systemctl try-restart, in the guest
        logger(good.sock, "t", "GOOD-AFTER")
        logger(bad.sock, "t", "BAD-AFTER")
        wait_for(lambda: _delivered(collector, "GOOD-AFTER"), DELIVERY_TIMEOUT)
        # The listener says why (accepted sessions log no certificate details).
        wait_for(lambda: "CN=bad.example" in collector.listener.output(), DELIVERY_TIMEOUT)
        time.sleep(12)  # a further retry of the revoked client
    assert not _delivered(collector, "BAD-AFTER")
    # Its renewal is refused too: the renewal service reads the CRL.
    forced = run([str(bad.root / "usr/local/sbin/ssb-log-pki"), "renew", "--dir",
                  str(bad.root / TLS_DIR), "--port", str(collector.renewal_port)],
                 env={"SSB_LOG_PKI_RENEW_DAYS": "31"})
    assert forced.returncode != 0 and "did not renew" in forced.stderr, forced
    assert "certificate revoked" in collector.renewal_log.read_text()


def test_the_client_renews_itself_bound_to_its_address(collector: Collector) -> None:
    """Issued bound to 127.0.0.5: a renewal from there gives a new key and certificate, which
    the listener accepts; the same request from another address is refused."""
    client = _client(collector, "renewing.example", "--client-address", "127.0.0.5")
    tls = client.root / TLS_DIR
    old_cert, old_key = (tls / "client.pem").read_text(), (tls / "client.key").read_text()
    renew = ["renew", "--port", str(collector.renewal_port)]
    env = {"SSB_LOG_PKI_RENEW_DAYS": "31"}  # due now (certificates live 30 days)
    stolen = run([str(client.root / "usr/local/sbin/ssb-log-pki"), *renew, "--dir", str(tls),
                  "--source", "127.0.0.6"], env=env)
    assert stolen.returncode != 0, stolen
    wait_for(lambda: "is bound to 127.0.0.5, not 127.0.0.6" in collector.renewal_log.read_text(),
             10)
    assert (tls / "client.pem").read_text() == old_cert
    renewed = run([str(client.root / "usr/local/sbin/ssb-log-pki"), *renew, "--dir", str(tls),
                   "--source", "127.0.0.5"], env=env)
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    assert (tls / "client.pem").read_text() != old_cert
    assert (tls / "client.key").read_text() != old_key  # a key made on the client
    san = run(["openssl", "x509", "-in", str(tls / "client.pem"), "-noout", "-ext",
               "subjectAltName"]).stdout
    assert "DNS:renewing.example" in san and "IP Address:127.0.0.5" in san
    collector.listener.restart()
    with rsyslogd(_client_main(client.root, client.sock, "renewing.example")):
        logger(client.sock, "t", "AFTER-RENEWAL")
        wait_for(lambda: _delivered(collector, "AFTER-RENEWAL"), DELIVERY_TIMEOUT)
