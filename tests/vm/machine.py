"""One emulated instance: QEMU (TCG) booting a cached image with OpenStack's config drive.

What Nova gives an instance, the harness gives the VM: the user data and metadata on an ISO
labelled `config-2` (cloud-init's ConfigDrive source), data volumes as virtio disks whose serial
is the first 20 characters of the volume ID (so they appear as /dev/disk/by-id/virtio-<serial>),
one network (QEMU's user network; the host's services are forwarded to fixed addresses, see
addresses.py). The root disk is a copy-on-write overlay of the image: a new overlay is a
replacement instance, the same overlay is a reboot.

KVM is not used: on the test machines a KVM guest hangs before its kernel prints anything.
"""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.vm.image import Image
from tests.vm.services import Forward

SSH_USER = "debian"  # Debian's cloud-init default user; gets the metadata's public key
FIRST_BOOT_TIMEOUT = 1500.0  # seconds; a first boot takes ~3-4 min on an idle 2-core machine


class GuestError(AssertionError):
    """A command in the guest failed; the message carries its output."""


@dataclass
class Volume:
    """A Cinder volume: a sparse raw file that outlives instances, and its OpenStack ID."""

    path: Path
    size_gib: int = 1
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def create(self) -> Volume:
        with open(self.path, "wb") as handle:
            handle.truncate(self.size_gib * 1024**3)
        return self

    @property
    def serial(self) -> str:
        return self.id[:20]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class VM:
    """A QEMU process around one root disk; start() and stop() may be repeated (reboots)."""

    def __init__(self, image: Image, workdir: Path, *, hostname: str, user_data: str,
                 meta: dict[str, str], volumes: list[Volume], forwards: list[Forward],
                 ssh_key: Path, host_ports: dict[int, int] | None = None,
                 memory_mib: int = 1536, restrict: bool = False) -> None:
        self.image = image
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.hostname = hostname
        self.volumes = volumes
        self.forwards = forwards
        self.ssh_key = ssh_key
        self.memory_mib = memory_mib
        # restrict=on: no route out of QEMU's user network; only the forwards below reach out.
        self.restrict = restrict
        self.ssh_port = free_port()
        self.host_ports = dict(host_ports or {})  # guest port -> port on the host's loopback
        self.instance_id = str(uuid.uuid4())
        self.root = workdir / "root.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b",
                        str(image.root), str(self.root)], check=True)
        self.config_drive = workdir / "config-drive.iso"
        self._write_config_drive(user_data, meta)
        self.serial_log = workdir / "serial.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.boots = 0

    def _write_config_drive(self, user_data: str, meta: dict[str, str]) -> None:
        tree = self.workdir / "config-drive"
        latest = tree / "openstack" / "latest"
        latest.mkdir(parents=True, exist_ok=True)
        public_key = self.ssh_key.with_suffix(".pub").read_text().strip()
        (latest / "meta_data.json").write_text(json.dumps({
            "uuid": self.instance_id, "hostname": self.hostname, "name": self.hostname,
            "launch_index": 0, "availability_zone": "nova",
            "public_keys": {"harness": public_key}, "keys": [
                {"name": "harness", "type": "ssh", "data": public_key}],
            "meta": meta}))
        (latest / "user_data").write_text(user_data)
        subprocess.run(["genisoimage", "-quiet", "-o", str(self.config_drive), "-V", "config-2",
                        "-r", "-J", str(tree)], check=True)

    # ---------------------------------------------------------------- lifecycle

    def command(self) -> list[str]:
        restrict = ",restrict=on" if self.restrict else ""
        netdev = [f"user,id=net0{restrict},hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22"]
        netdev += [f"hostfwd=tcp:127.0.0.1:{host}-:{guest}"
                   for guest, host in sorted(self.host_ports.items())]
        netdev += [f.qemu() for f in self.forwards]
        argv = [
            "qemu-system-x86_64", "-machine", "q35,accel=tcg", "-cpu", "max", "-smp", "2",
            "-m", str(self.memory_mib), "-display", "none", "-no-reboot",
            "-serial", f"file:{self.serial_log}",
            "-kernel", str(self.image.kernel), "-initrd", str(self.image.initrd),
            "-append", "root=LABEL=root ro console=ttyS0 systemd.show_status=1",
            "-drive", f"file={self.root},if=none,id=root,format=qcow2,cache=unsafe",
            "-device", "virtio-blk-pci,drive=root",
            "-drive", f"file={self.config_drive},if=none,id=cd,format=raw,readonly=on",
            "-device", "virtio-blk-pci,drive=cd",
            "-netdev", ",".join(netdev), "-device", "virtio-net-pci,netdev=net0",
        ]
        for i, vol in enumerate(self.volumes):
            argv += ["-drive", f"file={vol.path},if=none,id=vol{i},format=raw,cache=unsafe",
                     "-device", f"virtio-blk-pci,drive=vol{i},serial={vol.serial}"]
        return argv

    def start(self) -> None:
        """Power on (the serial log of every boot is kept, one file per boot)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.boots += 1
        if self.serial_log.exists():
            self.serial_log.rename(self.workdir / f"serial.boot{self.boots - 1}.log")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.workdir / "qemu.stderr", "ab"))  # noqa: SIM115

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout: float) -> float | None:
        """Seconds until QEMU exits (the guest powered off or reset), None on timeout."""
        assert self.proc is not None
        begun = time.monotonic()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return time.monotonic() - begun

    def shutdown(self, how: str = "poweroff", timeout: float = 300) -> float:
        """Ask the guest to power off (or reboot: with -no-reboot QEMU exits at the reset);
        return how long the guest took. Fails when it does not finish within `timeout`."""
        self.ssh(f"systemctl {how} --no-block", check=False, timeout=30)
        took = self.wait_exit(timeout)
        if took is None:
            tail = self.serial_tail(40)
            self.kill()
            raise GuestError(f"{self.hostname}: {how} did not finish in {timeout:g} s:\n{tail}")
        return took

    def kill(self) -> None:
        if self.running():
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(timeout=30)

    def serial_tail(self, lines: int = 60) -> str:
        try:
            text = self.serial_log.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.replace("\r", "").splitlines()[-lines:])

    # ---------------------------------------------------------------- in the guest

    def _ssh_argv(self) -> list[str]:
        return ["ssh", "-i", str(self.ssh_key), "-p", str(self.ssh_port),
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "-o", "BatchMode=yes",
                "-o", "ServerAliveInterval=15", f"{SSH_USER}@127.0.0.1"]

    def ssh(self, script: str, *, check: bool = True, timeout: float = 300,
            stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
        """Run `script` as root in the guest (sh -c); fails with its output when it fails."""
        remote = "sudo sh -c " + shlex.quote(script)
        proc = subprocess.run([*self._ssh_argv(), remote], input=stdin, capture_output=True,
                              timeout=timeout, check=False)
        result = subprocess.CompletedProcess(proc.args, proc.returncode,
                                             proc.stdout.decode("utf-8", "replace"),
                                             proc.stderr.decode("utf-8", "replace"))
        if check and proc.returncode != 0:
            raise GuestError(f"{self.hostname}: `{script}` exited {proc.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
        return result

    def put(self, path: str, data: bytes, mode: str = "0600") -> None:
        self.ssh(f"install -D -m {mode} /dev/stdin {shlex.quote(path)}", stdin=data)

    def poll(self, script: str, timeout: float) -> subprocess.CompletedProcess[str]:
        """`ssh(script)` for a polling loop: one answer that takes longer than `timeout` (a
        guest busy with its first boot on a loaded host) counts as "not yet", not as an error."""
        try:
            return self.ssh(script, check=False, timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess([script], 124, "",
                                               f"no answer within {timeout:g} s")

    def get(self, path: str) -> bytes:
        proc = subprocess.run([*self._ssh_argv(), f"sudo cat {shlex.quote(path)}"],
                              capture_output=True, timeout=120, check=False)
        if proc.returncode != 0:
            raise GuestError(f"{self.hostname}: cannot read {path}: {proc.stderr!r}")
        return proc.stdout

    def wait_ssh(self, timeout: float = FIRST_BOOT_TIMEOUT) -> float:
        """Seconds from power-on until SSH answers (a login is possible)."""
        deadline = self.started + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise GuestError(f"{self.hostname}: QEMU exited while booting:\n"
                                 f"{self.serial_tail()}")
            if self.poll("true", timeout=30).returncode == 0:
                return time.monotonic() - self.started
            time.sleep(3)
        raise GuestError(f"{self.hostname}: no SSH after {timeout:g} s:\n{self.serial_tail()}")

    def wait_until(self, script: str, timeout: float, interval: float = 5) -> float:
        """Seconds until `script` succeeds in the guest (power-on counts from start())."""
        begun = time.monotonic()
        last = None
        while time.monotonic() - begun < timeout:
            last = self.poll(script, timeout=120)
            if last.returncode == 0:
                return time.monotonic() - begun
            time.sleep(interval)
        detail = f"{last.stdout}\n{last.stderr}" if last else ""
        raise GuestError(f"{self.hostname}: `{script}` not true after {timeout:g} s:\n{detail}")

    def wait_cloud_init(self, timeout: float = FIRST_BOOT_TIMEOUT) -> tuple[float, str]:
        """Seconds from power-on until cloud-init finished, and its status text. Polled (no
        long-lived SSH session: cloud-init restarts sshd while it configures it)."""
        self.wait_ssh(timeout)
        last = ""
        while time.monotonic() - self.started < timeout:
            proc = self.poll("cloud-init status --long", timeout=60)
            last = proc.stdout
            if any(f"status: {s}" in last for s in ("done", "error", "degraded")):
                return time.monotonic() - self.started, last
            time.sleep(5)
        raise GuestError(f"{self.hostname}: cloud-init not finished after {timeout:g} s:\n{last}")

    def journal(self, unit: str | None = None, lines: int = 200) -> str:
        which = f"-u {shlex.quote(unit)}" if unit else ""
        return self.ssh(f"journalctl -b --no-pager -n {lines} {which}", check=False).stdout
