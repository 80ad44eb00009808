"""Nothing lost when the collector's volume fills: the audit's case, with real daemons.

A collector whose log volume is a 2 MiB tmpfs; one client (a real rsyslogd with the generated
forwarding configuration) sends 600 messages of about 8 KB, far more than fits. Before the store
confirmed writes, 263-297 of them were written and the rest dropped for good ("No space left on
device"), although TCP delivery had succeeded. Now the collector holds back, the client keeps the
rest, and after the volume grows all 600 arrive, each once and whole.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from generator.features.logging.guest import TLS_DIR, log_collector
from tests.guest_logging.harness import (
    free_port,
    need,
    remote_text,
    rsyslogd,
    run,
    wait_for,
    write_files,
)
from tests.guest_logging.test_logging_e2e import _client_main, _client_root

MESSAGES = 600
PAYLOAD = 7800  # with the syslog header, about 8 KB: under rsyslog's 8 KiB message limit
HOST = "filler.example"
# Hang guards only, far above the real times (the client retries every 10 s, the collector's
# store every 10 s).
FILL_TIMEOUT = 120.0
DRAIN_TIMEOUT = 240.0


def _arrived(root: Path) -> list[str]:
    return re.findall(r"FILL-(\d{4})-END", remote_text(root))


def _free_kib(path: Path) -> int:
    out = subprocess.run(["df", "--output=avail", "-k", str(path)], capture_output=True,
                         text=True, check=True).stdout
    return int(out.split()[-1])


def _stable(value: Callable[[], int], quiet: float = 15.0) -> int:
    """`value()` once it has not changed for `quiet` seconds (longer than the client's and the
    store's 10-second retries)."""
    last, since = value(), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(1)
        now = value()
        if now != last:
            last, since = now, time.monotonic()
    return last


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    mountpoint = tmp_path / "collector" / "var/log/remote"
    mountpoint.mkdir(parents=True)
    subprocess.run([need("mount"), "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs",
                    str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_a_full_collector_volume_loses_nothing(tmp_path: Path, tmpfs: Path) -> None:
    need("openssl")
    port = free_port()
    root = tmp_path / "collector"
    config = log_collector(retention_days=7, clients_port=port, root=f"{root}/",
                           bind_address="127.0.0.1")
    write_files(config)
    (init,) = [c for c in config.commands if len(c) > 1 and c[1] == "init"]
    assert run(init).returncode == 0
    (root / "var/lib/ssb-log-collector").mkdir(parents=True)
    pki = root / "usr/local/sbin/ssb-log-pki"
    client = _client_root(tmp_path, "client", port)
    assert run([str(pki), "issue", HOST, "--dir", str(root / TLS_DIR),
                "--address", "127.0.0.1"]).returncode == 0
    hosts = client / "hosts"
    hosts.write_text("")
    installed = run([str(client / "usr/local/sbin/ssb-log-pki"), "install",
                     str(root / TLS_DIR / "issued" / HOST), "--dir", str(client / TLS_DIR),
                     "--hosts", str(hosts)])
    assert installed.returncode == 0, installed.stderr
    sock = client / "log.sock"
    main = root / "etc/safespring-blueprints/logging/collector.conf"
    with rsyslogd(main, listen_port=port) as collector, \
            rsyslogd(_client_main(client, sock, HOST)) as sender:
        out = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        padding = "x" * PAYLOAD
        for i in range(MESSAGES):
            out.sendto(f"<13>filler: FILL-{i:04d}-END {padding}".encode(), str(sock))
            time.sleep(0.002)  # a busy client, not a datagram flood the kernel would drop
        out.close()
        # The volume fills, and what does not fit stays where it is (the collector's queue,
        # the client's): the count stops growing.
        wait_for(lambda: _free_kib(tmpfs) < 64, FILL_TIMEOUT, step=0.5)
        before = _stable(lambda: len(_arrived(root)))
        assert before < MESSAGES, "the test volume was meant to fill"
        assert sender.proc.poll() is None and collector.proc.poll() is None

        subprocess.run(["mount", "-o", "remount,size=64m", str(tmpfs)], check=True)
        wait_for(lambda: len(set(_arrived(root))) == MESSAGES, DRAIN_TIMEOUT, step=1)
        time.sleep(2)

    arrived = _arrived(root)
    print(f"\nback-pressure: {before} of {MESSAGES} written before the volume grew, "
          f"{len(set(arrived))} after")
    assert sorted(arrived) == [f"{i:04d}" for i in range(MESSAGES)], "each message once"
    lines = remote_text(root).splitlines()
    assert len(lines) == MESSAGES and all(line.endswith(padding) for line in lines), \
        "no partial line"
