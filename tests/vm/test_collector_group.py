"""The log collector's guest configuration in life, booted from its generated user data.

The spec gives the collector ubuntu-24.04; Ubuntu's archive cannot be reached from the test
machines, so the same user data boots on Debian 12 here (tests/ssb_guest covers what differs:
the Python version).

First boot while Tang is down: the CA exists, the listener stays closed (clients keep queueing;
nothing reaches the unencrypted boot disk). Tang returns: the log volume is formatted and
mounted, the listener starts, and a client with a certificate the collector issued delivers a
message, which lands on the encrypted volume in the directory of the client's address; a
certificate from another CA gets nothing in; the renewal service runs, and a revoked certificate
is shut out at once (the listener restarted on its new trust list under systemd). The
collector's own self-checks reach its own evidence store. (Reboots are the application group's
test.)
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.features.logging.guest import COLLECTOR_PORT, SERVER_NAME, TLS_DIR
from tests.vm.image import Image
from tests.vm.lab import Lab, boot, lab, self_check, timed
from tests.vm.machine import VM, free_port

HOST = "vmtest-log-collector-1"
REMOTE = "/var/log/remote"
CLIENT = "vmtest-probe"
PEER = "10.0.2.2"  # the host, as the guest sees it on QEMU's user network


@dataclass
class Collector:
    lab: Lab
    vm: VM
    port: int  # the host's end of the collector's TLS port
    bundle: Path


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory, vm_blueprint: Path, debian12: Image,
              ssh_key: Path) -> Iterator[Collector]:
    work = tmp_path_factory.mktemp("vm-collector")
    with lab(work, vm_blueprint, "log-collector", ssh_key) as the_lab:
        the_lab.start_services(debian12)
        port = free_port()
        vm = the_lab.new_vm(debian12, "instance-1", hostname=HOST, volumes=the_lab.volumes(),
                            host_ports={COLLECTOR_PORT: port})
        yield Collector(the_lab, vm, port, work / "bundle")


def _listening(vm: VM) -> bool:
    return vm.ssh(f"ss -ltnH 'sport = :{COLLECTOR_PORT}' | grep -q .", check=False).returncode == 0


def _send(c: Collector, marker: str, *, other_ca: bool = False,
          bundle: Path | None = None) -> None:
    """One RFC 5425 frame over mutual TLS, as an rsyslog client would send it."""
    bundle = bundle or c.bundle
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(bundle / "ca.pem")
    if other_ca:
        ctx.load_cert_chain(*_self_signed(c.bundle.parent / "mallory"))
    else:
        ctx.load_cert_chain(bundle / "client.pem", bundle / "client.key")
    msg = f"<13>1 2026-11-30T12:00:00Z {CLIENT} vmtest - - - {marker}".encode()
    with socket.create_connection(("127.0.0.1", c.port), timeout=30) as raw, \
            ctx.wrap_socket(raw, server_hostname=SERVER_NAME) as tls:
        tls.sendall(str(len(msg)).encode() + b" " + msg)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(exist_ok=True)
    cert, key = directory / "client.pem", directory / "client.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", f"/CN={CLIENT}",
                    "-addext", "extendedKeyUsage=clientAuth"], check=True, capture_output=True)
    return cert, key


def _state(vm: VM, unit: str) -> str:
    return vm.ssh(f"systemctl show -p ActiveState,SubState --value {unit} | paste -sd/",
                  check=False).stdout.strip()


def _arrived(vm: VM, marker: str) -> str:
    """The file under /var/log/remote holding `marker` (waits for it)."""
    vm.wait_until(f"grep -rlq {marker} {REMOTE}", timeout=120, interval=2)
    return vm.ssh(f"grep -rl {marker} {REMOTE}").stdout.strip()


def test_first_boot_with_tang_down_keeps_the_listener_closed(collector: Collector) -> None:
    """No encrypted volume yet, so no listener: clients keep queueing on their own disks and
    nothing reaches the collector's unencrypted boot disk."""
    vm = collector.vm
    collector.lab.tang_down()
    status = boot(vm, "collector first boot (Tang down)")
    assert "status: done" in status, status
    assert not _listening(vm), "the listener must not run without its encrypted volume"
    assert _state(vm, "ssb-log-collector.service").startswith("inactive")
    assert vm.ssh(f"mountpoint -q {REMOTE}", check=False).returncode != 0
    assert vm.ssh(f"touch {REMOTE}/x", check=False).returncode != 0  # immutable mountpoint
    mode = vm.ssh(f"stat -c %a /{TLS_DIR}/private/ca.key").stdout.strip()
    assert mode == "600"  # the CA exists already: it needs no volume


def test_tang_returns_listener_up_and_logs_land_on_the_encrypted_volume(
        collector: Collector) -> None:
    vm = collector.vm
    collector.lab.tang_up()
    took = vm.wait_until("systemctl is-active -q ssb-log-collector.service", timeout=900)
    timed("collector: Tang back -> volume formatted and TLS listener up", took)
    assert vm.ssh(f"findmnt -n -o SOURCE,FSTYPE {REMOTE}").stdout.split() == [
        "/dev/mapper/ssb-logs", "ext4"]
    assert _listening(vm)
    assert vm.ssh("ss -ltnuH | grep -E ':514\\b'", check=False).returncode != 0  # no plaintext
    # An administrator issues a client certificate (here for the test's own client).
    vm.ssh(f"/usr/local/sbin/ssb-log-pki issue {CLIENT} --address 10.0.2.15")
    collector.bundle.mkdir()
    for name in ("ca.pem", "client.pem", "client.key"):
        (collector.bundle / name).write_bytes(vm.get(f"/{TLS_DIR}/issued/{CLIENT}/{name}"))
    _send(collector, "COLLECTED-MARKER")
    path = _arrived(vm, "COLLECTED-MARKER")
    assert path.startswith(f"{REMOTE}/{PEER}/"), path  # filed by address, not by claimed name
    assert vm.ssh(f"findmnt -n -o SOURCE -T {path}").stdout.strip() == "/dev/mapper/ssb-logs"
    line = vm.ssh(f"grep COLLECTED-MARKER {path}").stdout
    assert f" {PEER} {CLIENT} " in line, line
    # A client certificate from another CA gets nothing in (with TLS 1.3 the client may only
    # learn it when the collector hangs up: what counts is what the collector keeps).
    with contextlib.suppress(OSError):
        _send(collector, "UNSIGNED-MARKER", other_ca=True)
    _send(collector, "BARRIER-MARKER")
    _arrived(vm, "BARRIER-MARKER")
    assert vm.ssh(f"grep -rl UNSIGNED-MARKER {REMOTE}", check=False).returncode == 1
    # The renewal service runs; a revoked certificate is shut out at once (the listener was
    # restarted on the new trust list, under systemd).
    assert vm.ssh("systemctl is-active -q ssb-log-renewal.service ssb-log-pki-refresh.timer",
                  check=False).returncode == 0
    assert vm.ssh("ss -ltnH 'sport = :6515' | grep -q .", check=False).returncode == 0
    vm.ssh(f"/usr/local/sbin/ssb-log-pki revoke {CLIENT}")
    vm.ssh(f"/usr/local/sbin/ssb-log-pki issue {CLIENT}-2 --address 10.0.2.15")
    vm.wait_until(f"ss -ltnH 'sport = :{COLLECTOR_PORT}' | grep -q .", timeout=120)
    with contextlib.suppress(OSError):
        _send(collector, "REVOKED-MARKER")
    second = collector.bundle.parent / "bundle-2"
    second.mkdir()
    for name in ("ca.pem", "client.pem", "client.key"):
        (second / name).write_bytes(vm.get(f"/{TLS_DIR}/issued/{CLIENT}-2/{name}"))
    _send(collector, "BARRIER-2-MARKER", bundle=second)
    _arrived(vm, "BARRIER-2-MARKER")
    assert vm.ssh(f"grep -rl REVOKED-MARKER {REMOTE}", check=False).returncode == 1


def test_the_collector_checks_itself_and_keeps_its_own_evidence(collector: Collector) -> None:
    """The collector runs ssb-verify like every instance. Its events are not shipped to itself:
    ssb-evidence reads them from its own journal, so the export names the collector too."""
    vm = collector.vm
    events = self_check(vm)
    for measure in ("audit", "local-logs", "luks-tang"):
        assert events[measure]["SSB_RESULT"] == "ok", events[measure]
    assert "bound to a key Tang advertises" in events["luks-tang"]["SSB_DETAIL"]
    doc = json.loads(vm.ssh(f"/usr/local/sbin/ssb-evidence export --root {REMOTE} --journal",
                            timeout=600).stdout)
    (own,) = [i for i in doc["instances"] if i["name"] == HOST]
    for measure in ("audit", "local-logs", "luks-tang"):
        at = json.loads(events[measure]["MESSAGE"].split(" ", 1)[1])["at"]
        assert own["measures"][measure]["result"] == "ok", own["measures"][measure]
        assert own["measures"][measure]["checked_at"] == at
