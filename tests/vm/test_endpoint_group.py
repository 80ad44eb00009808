"""A TLS endpoint group in life: the `web` group (endpoint `portal`, certificate: acme) booted
from its generated user data on Debian 13.

Caddy obtains its certificate from a real ACME server (pebble, answering at Let's Encrypt's
name through the harness) with the TLS-ALPN-01 challenge on port 443 alone, then serves the
backend only over TLS 1.2+ with HSTS.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.vm import addresses, services
from tests.vm.image import Image
from tests.vm.lab import Lab, boot, lab, timed, wait
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
