"""The egress proxy group's guest configuration in life, booted from its generated user data.

One boot of the `egress-proxy` group of tests/vm/specs: Squid runs under systemd on the
generated configuration (the drop-in points it there), lets a listed host through (GET to the
package mirror, a CONNECT tunnel to Safespring Storage), refuses a host that is not listed and
logs the refusal to syslog, whence the log shipping takes it to the collector; chrony listens
for the private network's time requests. (The application group's test runs the same squid.conf
on the host as the private VM's only way out.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.vm import addresses
from tests.vm.image import Image
from tests.vm.lab import boot, lab, timed
from tests.vm.machine import VM

HOST = "vmtest-egress-proxy-1"
PROXY = "http://127.0.0.1:3128"


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory, vm_blueprint: Path, debian12: Image,
          ssh_key: Path) -> Iterator[VM]:
    work = tmp_path_factory.mktemp("vm-proxy")
    with lab(work, vm_blueprint, "egress-proxy", ssh_key) as the_lab:
        the_lab.start_services(debian12)
        yield the_lab.new_vm(debian12, "instance-1", hostname=HOST, volumes=[])


def _curl(vm: VM, url: str, write_out: str = "%{http_code}") -> str:
    return vm.ssh(f"curl -s -o /dev/null -w '{write_out}' --max-time 30 -x {PROXY} {url}",
                  check=False).stdout


def test_first_boot_runs_squid_on_the_allow_list_and_serves_time(proxy: VM) -> None:
    status = boot(proxy, "egress proxy first boot")
    assert "status: done" in status, status
    took = proxy.wait_until("systemctl is-active -q squid.service chrony.service", timeout=300)
    timed("egress proxy: cloud-init done -> squid and chrony active", took)
    unit = proxy.ssh("systemctl show -p ExecStart --value squid.service").stdout
    assert "/etc/safespring-blueprints/egress/squid.conf" in unit
    # Squid serves the private network's subnet from the metadata, nothing wider.
    clients = proxy.ssh("grep -v '^#' /run/safespring-blueprints/egress-clients.acl").stdout
    assert clients.split() == [addresses.GUEST_NETWORK]
    assert proxy.ssh("ss -ltnH 'sport = :3128' | grep -q .", check=False).returncode == 0
    # chrony opens its NTP server port only when an `allow` is configured: the private network.
    sockets = proxy.ssh("ss -lunpH 'sport = :123'", check=False).stdout
    assert "chronyd" in sockets, (sockets, proxy.ssh("grep -rh '^[a-z]' /etc/chrony/",
                                                     check=False).stdout)
    # Listed: the mirror (GET), Safespring Storage (a CONNECT tunnel the proxy opens).
    assert _curl(proxy, f"http://{addresses.MIRROR_NAME}/Release") == "200"
    assert _curl(proxy, "https://s3.sto1.safedc.net/", "%{http_connect}") == "200"
    # Not listed: refused, and the refusal is in syslog (so shipped to the collector).
    assert _curl(proxy, "http://refused.example.org/exfiltrate") == "403"
    proxy.wait_until("journalctl -b --no-pager | grep -F refused.example.org/exfiltrate "
                     "| grep -q TCP_DENIED/403", timeout=60)
    assert _curl(proxy, "https://refused.example.org/", "%{http_connect}") == "403"
