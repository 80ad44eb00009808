"""Debian guest images for the VM suite, built from Debian's archive with mmdebstrap.

An image is what a Safespring instance boots before cloud-init runs: a Debian cloud kernel,
systemd, cloud-init, OpenSSH and sudo, plus the packages the generated guest configuration
installs (so first boot needs no package mirror on the internet: the tests serve an empty
local one). What the test harness adds to it, and why, is all in `_customize` below:

- the root file system is found by label (device names shift when data volumes come first);
- the initramfs carries virtio (the cloud kernel builds it as modules);
- cloud-init manages /etc/hosts, as in Debian's own cloud images (`manage_etc_hosts: true`,
  which rewrites the file at every boot); its template sends the names the guest configuration
  uses (Tang, the S3 endpoints, the ACME directory, the package mirror) to fixed addresses on
  QEMU's user network, where the harness forwards them to services on the host's loopback; the
  user data itself stays exactly as the generator wrote it;
- a test CA is trusted, so TLS to those services is verified as it would be in production;
- apt's periodic jobs are off (they would fight for the two emulated CPUs).

Images are cached by a key over everything that goes into them (suite, package list, this
file), in $SSB_VM_CACHE or ~/.cache/safespring-blueprints-vm: a second run on the same machine
boots in seconds; CI builds each image once per run.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.vm import addresses

# Debian releases the suite boots; Ubuntu's archive cannot be reached from the test machines.
SUITES = {"debian-12": "bookworm", "debian-13": "trixie"}

BASE_PACKAGES = (
    "linux-image-cloud-amd64", "systemd-sysv", "systemd-timesyncd", "udev", "cloud-init",
    "openssh-server", "sudo", "ca-certificates", "netbase", "iproute2", "less", "procps",
    "e2fsprogs", "util-linux", "python3", "locales",
)
# How each release's cloud images bring the network up (cloud-init renders for it): ifupdown on
# Debian 12; netplan with systemd-networkd on Debian 13, where ifupdown left the interface down
# for five minutes (networking.service timed out) under cloud-init 25.
NETWORK_PACKAGES = {"bookworm": ("ifupdown", "isc-dhcp-client"), "trixie": ("netplan.io",)}
ROOT_SIZE = "4G"
TOOLS = ("mmdebstrap", "mkfs.ext4", "openssl", "qemu-img")
PACKAGES_HINT = "apt-get install -y qemu-system-x86 qemu-utils mmdebstrap genisoimage socat"


@dataclass(frozen=True)
class Image:
    """A bootable image: kernel, initramfs and a raw root disk (never written: VMs use
    copy-on-write overlays), plus the test CA its trust store holds."""

    name: str
    kernel: Path
    initrd: Path
    root: Path
    ca_cert: Path
    ca_key: Path


def cache_dir() -> Path:
    """Where images are kept between runs (not XDG_CACHE_HOME: the test session replaces it)."""
    configured = os.environ.get("SSB_VM_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "safespring-blueprints-vm"


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _key(suite: str, packages: tuple[str, ...], ca_cert: Path) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([suite, sorted(packages), addresses.HOSTS]).encode())
    digest.update(Path(__file__).read_bytes())
    digest.update(ca_cert.read_bytes())
    return digest.hexdigest()[:16]


def shared_ca() -> tuple[Path, Path]:
    """The one test CA every image trusts (an instance replaced by one on another image must
    still trust the services its predecessor talked to)."""
    directory = cache_dir() / "test-ca"
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (directory / "ca.pem").exists():
            _make_ca(directory)
    return directory / "ca.pem", directory / "ca.key"


def _make_ca(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "ca.pem", directory / "ca.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "3650",
         "-subj", "/CN=safespring-blueprints VM test CA",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        check=True, capture_output=True)
    return cert, key


def _customize(rootfs: Path, ca_cert: Path) -> None:
    """Everything the harness changes in the image (see the module docstring)."""
    etc = rootfs / "etc"
    (etc / "fstab").write_text("LABEL=root / ext4 defaults,errors=remount-ro 0 1\n")
    (etc / "hostname").write_text("localhost\n")
    hosts = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
    hosts += [f"{ip} {' '.join(names)}" for ip, names in addresses.HOSTS.items()]
    (etc / "hosts").write_text("\n".join(hosts) + "\n")
    # The package mirror is the harness's (an empty flat repository): first boot's
    # `apt-get update` works offline and every package is already installed.
    (etc / "apt" / "sources.list").write_text(
        f"deb [trusted=yes] http://{addresses.MIRROR_NAME}/ ./\n")
    sources_d = etc / "apt" / "sources.list.d"
    for extra in sources_d.glob("*"):
        extra.unlink()
    (etc / "cloud" / "cloud.cfg.d" / "90-vm-test.cfg").write_text(
        "# VM test image: keep the image's package sources (the harness's local mirror);\n"
        "# manage /etc/hosts as Debian's cloud images do.\n"
        "apt:\n  preserve_sources_list: true\n"
        "manage_etc_hosts: true\n"
        "datasource_list: [ConfigDrive, None]\n")
    template = etc / "cloud" / "templates" / "hosts.debian.tmpl"
    template.write_text(template.read_text().rstrip("\n") + "\n" + "\n".join(hosts[2:]) + "\n")
    anchors = rootfs / "usr" / "local" / "share" / "ca-certificates"
    anchors.mkdir(parents=True, exist_ok=True)
    shutil.copy(ca_cert, anchors / "ssb-vm-test-ca.crt")
    modules = etc / "initramfs-tools" / "modules"
    modules.write_text(modules.read_text() + "virtio_pci\nvirtio_blk\nvirtio_net\next4\n")
    conf = etc / "initramfs-tools" / "initramfs.conf"
    conf.write_text(conf.read_text().replace("MODULES=dep", "MODULES=most"))


# cloud-init sets the locale en_US.UTF-8 at first boot, as on Debian's cloud images, where it
# is generated. Periodic jobs that only compete for the emulated CPUs are masked. Caddy and
# Squid are in the image for the TLS endpoint and egress proxy groups only: as on a real image,
# where they are not installed, they run only where the group's first boot enables them.
_HOOK = (
    "echo 'en_US.UTF-8 UTF-8' > \"$1/etc/locale.gen\" && "
    "chroot \"$1\" locale-gen >/dev/null && "
    "chroot \"$1\" update-ca-certificates >/dev/null && "
    "chroot \"$1\" update-initramfs -u -k all >/dev/null 2>&1 && "
    "chroot \"$1\" systemctl mask apt-daily.timer apt-daily-upgrade.timer man-db.timer "
    "e2scrub_all.timer e2scrub_reap.service fstrim.timer >/dev/null 2>&1 && "
    "chroot \"$1\" systemctl disable caddy.service squid.service >/dev/null 2>&1 && "
    "{ [ ! -x \"$1/usr/sbin/netplan\" ] || chroot \"$1\" systemctl enable systemd-networkd "
    ">/dev/null 2>&1; }"
)


def build(name: str, packages: tuple[str, ...], log: Path | None = None) -> Image:
    """The cached image for `name` (e.g. "debian-12") holding `packages`; built if needed."""
    missing = missing_tools()
    assert not missing, f"VM suite needs {', '.join(missing)} ({PACKAGES_HINT})"
    suite = SUITES[name]
    base = set(BASE_PACKAGES)
    if "chrony" in packages:
        # One time daemon: the two conflict (on a real image installing chrony removes it).
        base.discard("systemd-timesyncd")
    every = tuple(sorted(base | set(NETWORK_PACKAGES[suite]) | set(packages)))
    ca_cert, ca_key = shared_ca()
    target = cache_dir() / f"{name}-{_key(suite, every, ca_cert)}"
    with open(target.parent / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "done").exists():
            _build(target, suite, every, ca_cert, log)
    return Image(name, target / "vmlinuz", target / "initrd.img", target / "root.img",
                 ca_cert, ca_key)


def _build(target: Path, suite: str, packages: tuple[str, ...], ca_cert: Path,
           log: Path | None) -> None:
    if target.exists():
        shutil.rmtree(target)
    work = target.with_name(target.name + ".tmp")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    rootfs = work / "rootfs"
    out = open(log, "a") if log else subprocess.DEVNULL  # noqa: SIM115
    try:
        subprocess.run(
            ["mmdebstrap", "--variant=apt", "--include=" + ",".join(packages), suite,
             str(rootfs)],
            check=True, stdout=out, stderr=out, timeout=1800)
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    # Files are written outside the chroot (Python, not a shell hook), then the commands that
    # need them run in it.
    _customize(rootfs, ca_cert)
    _chroot_commands(rootfs)
    boot = rootfs / "boot"
    kernel = max(boot.glob("vmlinuz-*"))
    initrd = max(boot.glob("initrd.img-*"))
    shutil.copy(kernel, work / "vmlinuz")
    shutil.copy(initrd, work / "initrd.img")
    subprocess.run(["mkfs.ext4", "-q", "-d", str(rootfs), "-L", "root", str(work / "root.img"),
                    ROOT_SIZE], check=True, capture_output=True)
    shutil.rmtree(rootfs)
    (work / "done").write_text("ok\n")
    work.rename(target)


def _chroot_commands(rootfs: Path) -> None:
    mounts = []
    try:
        for fs in ("proc", "sys", "dev"):
            point = rootfs / fs
            subprocess.run(["mount", "--bind", f"/{fs}", str(point)], check=True)
            mounts.append(point)
        subprocess.run(["sh", "-c", _HOOK, "hook", str(rootfs)], check=True)
    finally:
        for point in reversed(mounts):
            subprocess.run(["umount", "-l", str(point)], check=False)
