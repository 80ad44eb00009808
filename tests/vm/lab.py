"""A lab for one instance group: the generated blueprint, the host services, and its VMs.

Everything an instance of the group talks to runs on the host's loopback (services.py): Tang,
the S3 API, the package mirror, and for some groups a log collector or an ACME server. The
lab starts them before the first VM (QEMU's forwards are fixed at start), keeps them across
reboots and replacements, and can take Tang down and bring it back. A group on the `private`
network gets a restricted QEMU network (no route out) with one forward besides the deployment's
own flows: the egress proxy, the generated squid configuration run on the host, through which
alone it reaches Tang, S3 and the mirror.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from generator.features.egress import CLIENT_CONFIG, CLIENTS_KEY, METADATA_KEY
from generator.features.egress import CONF as SQUID_CONF
from generator.measures import METADATA_KEY as MEASURES_KEY
from generator.spec.model import EGRESS_GROUP
from ssb_guest import verify
from tests.vm import addresses, services
from tests.vm.image import Image
from tests.vm.machine import VM, Volume

BACKUP_BUCKET = "vmtest-backup"
TIMINGS: list[tuple[str, float]] = []
BOOT_PROFILES: list[tuple[str, str]] = []  # (label, the slowest units of that boot)


def timed(label: str, seconds: float) -> float:
    """Record a measured duration for the session summary (and the session note)."""
    TIMINGS.append((label, seconds))
    return seconds


@dataclass
class Lab:
    """Host services plus the VMs of one group, built from the generated blueprint."""

    workdir: Path
    blueprint: Path
    group: str
    ssh_key: Path
    stack: ExitStack = field(default_factory=ExitStack)
    forwards: list[services.Forward] = field(default_factory=list)
    tang: services.TangServer | None = None
    s3_url: str = ""
    vms: list[VM] = field(default_factory=list)
    proxy: services.EgressProxy | None = None

    @property
    def user_data(self) -> str:
        """The group's cloud-init exactly as the generator wrote it."""
        return (self.blueprint / "cloud-init" / f"{self.group}.yaml").read_text()

    def cloud_config(self) -> dict:
        return yaml.safe_load(self.user_data)

    def guest_file(self, path: str) -> str:
        """The content the user data writes to `path` in the guest."""
        (content,) = [f["content"] for f in self.cloud_config()["write_files"]
                      if f["path"] == path]
        return content

    def start_services(self, image: Image) -> None:
        tang = services.make_tang(self.workdir, "lab").start()
        self.stack.callback(tang.close)
        self.tang = tang
        mirror = services.Mirror(self.workdir / "mirror")
        self.stack.callback(mirror.close)
        url, s3_port = self.stack.enter_context(
            services.s3_server(self.workdir, image.ca_cert, image.ca_key))
        self.s3_url = url
        if not self.private:
            self.forwards += [services.Forward(addresses.TANG, 80, tang.port),
                              services.Forward(addresses.MIRROR, 80, mirror.port),
                              services.Forward(addresses.S3, 443, s3_port)]
            return
        proxy_group = yaml.safe_load(
            (self.blueprint / "cloud-init" / f"{EGRESS_GROUP}.yaml").read_text())
        (squid_conf,) = [f["content"] for f in proxy_group["write_files"]
                         if f["path"] == SQUID_CONF]
        self.proxy = services.EgressProxy(self.workdir, squid_conf, {
            (addresses.TANG_NAME,): (80, tang.port),
            (addresses.MIRROR_NAME,): (80, mirror.port),
            addresses.HOSTS[addresses.S3]: (443, s3_port)})
        self.stack.callback(self.proxy.close)
        self.forwards.append(services.Forward(addresses.PROXY, addresses.PROXY_PORT,
                                              self.proxy.port))

    @property
    def private(self) -> bool:
        """The group is on the private network: it goes out through the egress proxy only."""
        return any(f["path"] == CLIENT_CONFIG for f in self.cloud_config()["write_files"])

    def tang_down(self) -> None:
        assert self.tang is not None
        self.tang.stop()

    def tang_up(self) -> None:
        assert self.tang is not None
        if not self.tang.running:
            self.tang.start()

    def volumes(self) -> list[Volume]:
        """One volume per encrypted volume of the group (the ssb-luks-tang configuration)."""
        if not self.has_volumes:
            return []
        config = json.loads(self.guest_file("/etc/safespring-blueprints/luks-tang.json"))
        return [Volume(self.workdir / f"volume-{v['name']}.img", size_gib=2).create()
                for v in config["volumes"]]

    @property
    def has_volumes(self) -> bool:
        return any(f["path"] == "/etc/safespring-blueprints/luks-tang.json"
                   for f in self.cloud_config()["write_files"])

    def metadata(self, volumes: list[Volume]) -> dict[str, str]:
        """What the instance-group module puts in the instance metadata (its main.tf)."""
        meta: dict[str, str] = {}
        if self.has_volumes:
            config = json.loads(self.guest_file("/etc/safespring-blueprints/luks-tang.json"))
            meta = {v["metadata_key"]: vol.id for v, vol in zip(config["volumes"], volumes,
                                                                strict=True)}
        meta.update(ssb_storage="central-3-copy", ssb_anti_affinity="false")
        meta[MEASURES_KEY] = ",".join(self.measures)
        if self.private:
            meta[METADATA_KEY] = addresses.PROXY  # join(" ", <the proxy group's addresses>)
        if self.is_proxy:
            # The private network's subnet (Terraform reads it from the platform): here QEMU's
            # user network, which the private VMs of the lab are on.
            meta[CLIENTS_KEY] = addresses.GUEST_NETWORK
        return meta

    @property
    def measures(self) -> tuple[str, ...]:
        """The group's measures: the cloud-init header names the very tuple blueprint.py puts
        in the metadata (`ssb_measures`)."""
        (line,) = [ln for ln in self.user_data.splitlines()
                   if ln.startswith("# Generated by safespring-blueprints ")]
        return tuple(line.split("; measures: ", 1)[1].rstrip(".").split(", "))

    @property
    def is_proxy(self) -> bool:
        """The group is the egress proxy (it runs ssb-egress-proxy clients before Squid)."""
        return any(f["path"] == SQUID_CONF for f in self.cloud_config()["write_files"])

    def new_vm(self, image: Image, name: str, *, hostname: str, volumes: list[Volume],
               host_ports: dict[int, int] | None = None) -> VM:
        vm = VM(image, self.workdir / name, hostname=hostname, user_data=self.user_data,
                meta=self.metadata(volumes), volumes=volumes, forwards=self.forwards,
                ssh_key=self.ssh_key, host_ports=host_ports, restrict=self.private)
        self.vms.append(vm)
        return vm

    def close(self) -> None:
        for vm in self.vms:
            vm.kill()
        self.stack.close()


def boot(vm: VM, label: str) -> str:
    """Power on and wait for cloud-init; records the time; returns cloud-init's status text."""
    vm.start()
    took, status = vm.wait_cloud_init()
    timed(f"{label}: power-on to cloud-init done", took)
    # Where the boot went, for whoever next makes the suite faster (printed, never asserted).
    blame = vm.poll("systemd-analyze blame --no-pager | head -n 6", timeout=120)
    BOOT_PROFILES.append((label, blame.stdout.rstrip()))
    return status


def self_check(vm: VM) -> dict[str, dict]:
    """Run ssb-verify now (what its timer does) and return that run's events by measure.

    A run the timer started (5 min after boot, then hourly) may be under way; `systemctl
    start` would join it, and its early events would say what was true before the test's
    change. So wait it out (hang guard: a run takes seconds to a few minutes under TCG), start
    a run of the test's own, and read that run's events by its invocation ID.
    """
    vm.wait_until("test \"$(systemctl show -P ActiveState ssb-verify.service)\" != activating",
                  timeout=900)
    vm.ssh("systemctl start ssb-verify.service", timeout=900)
    invocation = vm.ssh("systemctl show -P InvocationID ssb-verify.service").stdout.strip()
    assert invocation, "ssb-verify.service has no invocation ID after its run"
    out = vm.ssh(f"journalctl -o json --no-pager MESSAGE_ID={verify.MESSAGE_ID} "
                 f"_SYSTEMD_INVOCATION_ID={invocation}").stdout
    return {entry["SSB_MEASURE"]: entry for entry in map(json.loads, out.splitlines())}


@contextmanager
def lab(workdir: Path, blueprint: Path, group: str, ssh_key: Path) -> Iterator[Lab]:
    the_lab = Lab(workdir, blueprint, group, ssh_key)
    try:
        yield the_lab
    finally:
        the_lab.close()


def wait(check, timeout: float, interval: float = 2.0) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `check()` is true on the host side; fails after `timeout`."""
    begun = time.monotonic()
    while time.monotonic() - begun < timeout:
        if check():
            return time.monotonic() - begun
        time.sleep(interval)
    raise AssertionError(f"not true after {timeout:g} s: {check}")
