"""A TLS endpoint group in life: the `web` group (endpoint `portal`, certificate: acme) booted
from its generated user data on Debian 13.

Caddy obtains its certificate from a real ACME server (pebble, answering at Let's Encrypt's
name through the harness) with the TLS-ALPN-01 challenge on port 443 alone, then serves the
backend only over TLS 1.2+ with HSTS.
"""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.vm import addresses, services
from tests.vm.image import Image
from tests.vm.lab import Lab, boot, lab, self_check, timed, wait
from tests.vm.machine import VM, free_port

HOSTNAME = "portal.example.se"
BACKEND = 8080


@dataclass
class Web:
    lab: Lab
    vm: VM
    port: int  # the host's end of the guest's 443
    acme: services.Acme


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory, vm_blueprint: Path, debian13: Image,
        ssh_key: Path) -> Iterator[Web]:
    work = tmp_path_factory.mktemp("vm-web")
    with lab(work, vm_blueprint, "web", ssh_key) as the_lab:
        the_lab.start_services(debian13)
        port = free_port()
        acme = services.Acme(work / "acme", debian13.ca_cert, debian13.ca_key, tls_port=port)
        the_lab.stack.callback(acme.close)
        the_lab.forwards.append(services.Forward(addresses.ACME, 443, acme.port))
        vm = the_lab.new_vm(debian13, "instance-1", hostname="vmtest-web-1", volumes=[],
                            host_ports={443: port})
        yield Web(the_lab, vm, port, acme)


def _get(web: Web, ctx: ssl.SSLContext) -> tuple[str, bytes]:
    with socket.create_connection(("127.0.0.1", web.port), timeout=30) as raw, \
            ctx.wrap_socket(raw, server_hostname=HOSTNAME) as tls:
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {HOSTNAME}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := tls.recv(65536):
            data += chunk
        return str(tls.version()), data


def test_first_boot_serves_the_endpoint_with_an_acme_certificate(web: Web) -> None:
    vm = web.vm
    status = boot(vm, "web first boot (Debian 13)")
    assert "status: done" in status, status
    # The customer's backend, on localhost only (the blueprint's README says so).
    vm.ssh("mkdir -p /srv/www && echo 'portal backend' > /srv/www/index.html && "
           f"systemd-run --unit vmtest-backend python3 -m http.server {BACKEND} "
           "--bind 127.0.0.1 --directory /srv/www")
    ctx = ssl.create_default_context(cadata=web.acme.roots())
    began = time.monotonic()

    def served() -> bool:
        try:
            return b"portal backend" in _get(web, ctx)[1]
        except (OSError, ssl.SSLError):
            return False

    wait(served, timeout=600, interval=5)
    timed("web: cloud-init done -> certificate issued and endpoint served",
          time.monotonic() - began)
    version, response = _get(web, ctx)
    assert version in ("TLSv1.2", "TLSv1.3")
    headers = response.split(b"\r\n\r\n", 1)[0].decode().lower()
    assert "strict-transport-security: max-age=" in headers
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(cadata=web.acme.roots())
    old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.set_ciphers("ALL:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError):
        _get(web, old)
    # Nothing but 443 (and SSH) answers from outside; the backend only on localhost.
    listening = vm.ssh("ss -ltnH").stdout
    assert f"127.0.0.1:{BACKEND}" in listening
    assert f"0.0.0.0:{BACKEND}" not in listening and f"*:{BACKEND}" not in listening


def test_the_self_check_reads_the_served_certificate_both_ways(web: Web) -> None:
    """ssb-verify's tls-endpoint check: the days left on the certificate the endpoint serves;
    with Caddy stopped, FAIL."""
    vm = web.vm
    event = self_check(vm)["tls-endpoint"]
    assert event["SSB_RESULT"] == "ok", event
    assert re.search(rf"{HOSTNAME}: certificate valid \d+ more days", event["SSB_DETAIL"]), event
    vm.ssh("systemctl stop caddy.service")
    try:
        event = self_check(vm)["tls-endpoint"]
        assert event["SSB_RESULT"] == "fail", event
        assert event["SSB_DETAIL"].startswith("caddy.service is inactive"), event
    finally:
        vm.ssh("systemctl start caddy.service")
    assert self_check(vm)["tls-endpoint"]["SSB_RESULT"] == "ok"


def _login(web: Web, key: Path, user: str) -> subprocess.CompletedProcess[str]:
    """An SSH login as `user` with `key`, running `id -un` (no sudo, no retries)."""
    return subprocess.run(
        ["ssh", "-i", str(key), "-p", str(web.vm.ssh_port), "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
         "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=30", f"{user}@127.0.0.1", "id -un"],
        capture_output=True, text=True, timeout=120, check=False)  # hang guard only


def test_a_person_logs_in_until_the_last_day_and_is_refused_after_it(web: Web,
                                                                     person_key: Path) -> None:
    """vm.tester (member, last day 2027-06-30) logs in with their own key; with the guest's
    clock on 2027-07-02 the instance refuses them, by each of its two locks alone: the key's
    expiry-time (account expiry lifted) and the account's expiry (a key of their own without
    an end date added to their home). The break-glass login (until 2027-11-27) still works, and
    `usermod --expiredate 1`, what locks the default user without a break glass, refuses a key
    that is otherwise valid today."""
    vm = web.vm
    now = _login(web, person_key, "vm.tester")
    assert now.returncode == 0 and now.stdout.strip() == "vm.tester", now.stderr
    assert vm.ssh("sudo -l -U vm.tester", check=False).stdout.count("may run") == 0
    stat = vm.ssh("stat -c '%U %a' /etc/ssh/authorized_keys.d/vm.tester").stdout.split()
    assert stat == ["root", "644"]
    assert "Jul 01, 2027" in vm.ssh("chage -l vm.tester").stdout
    assert "Nov 28, 2027" in vm.ssh("chage -l debian").stdout  # the break glass's end
    assert "Jan 02, 1970" not in vm.ssh("chage -l debian").stdout

    back = int(time.time())
    vm.ssh("timedatectl set-ntp false || true; date -s '2027-07-02 12:00:00'")
    try:
        refused = _login(web, person_key, "vm.tester")
        assert refused.returncode != 0 and "vm.tester" not in refused.stdout
        # The key's end alone: the account no longer expires, the key still does.
        vm.ssh("chage -E -1 vm.tester")
        assert _login(web, person_key, "vm.tester").returncode != 0
        # The account's end alone: a key without an end date in the person's own home.
        vm.ssh("chage -E 2027-07-01 vm.tester && install -d -o vm.tester -m 0700 "
               "/home/vm.tester/.ssh && sed 's/^expiry-time=\"[0-9]*\" //' "
               "/etc/ssh/authorized_keys.d/vm.tester > /home/vm.tester/.ssh/authorized_keys && "
               "chown vm.tester /home/vm.tester/.ssh/authorized_keys && "
               "chmod 0600 /home/vm.tester/.ssh/authorized_keys")
        assert _login(web, person_key, "vm.tester").returncode != 0
        log = vm.ssh("journalctl -b --no-pager -u ssh -u sshd --since '2027-07-02'").stdout
        assert re.search(r"expired", log, re.I), log[-2000:]
        assert vm.ssh("id -un").stdout.strip() == "root"  # break glass (sudo) still works
    finally:
        vm.ssh(f"date -s @{back}")
    assert _login(web, person_key, "vm.tester").returncode == 0  # the refusals were the dates
    # What locks the default user when the spec declares no break glass: the same command.
    vm.ssh("usermod --expiredate 1 vm.tester")
    assert _login(web, person_key, "vm.tester").returncode != 0
