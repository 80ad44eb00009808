"""Helpers for the guest-side LUKS + Tang tests: a real Tang server, loop devices, a guest.

Everything here runs real tools (tangd, clevis, cryptsetup, losetup, mkfs, mount). A missing
tool fails the test loudly instead of skipping it. The one stand-in is for the kernel's
device-mapper, which the test machines lack (see fake_dm_clevis.py).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "ssb_guest" / "luks_tang.py"
FAKE_DM_CLEVIS = Path(__file__).with_name("fake_dm_clevis.py")
TANGD = Path("/usr/libexec/tangd")
TANGD_KEYGEN = Path("/usr/libexec/tangd-keygen")
# Debian package names, for the failure message.
PACKAGES = "tang clevis clevis-luks cryptsetup-bin util-linux e2fsprogs"


def require(tool: str) -> str:
    """Path of `tool`, or fail the test (never skip): the tests are about these real tools."""
    found = shutil.which(tool)
    if found is None and os.path.isabs(tool) and os.access(tool, os.X_OK):
        found = tool
    if not found:
        pytest.fail(f"{tool} is not installed (apt-get install -y {PACKAGES})")
    return found


class TangServer:
    """A real Tang server on 127.0.0.1: tangd (socket-activated in production) run once per
    connection, with the connection as its stdin/stdout, exactly as systemd's Accept=yes does."""

    def __init__(self, keydir: Path) -> None:
        self.keydir = keydir
        self.port = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._refusing = False
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TangServer:
        """Serve (again, on the same port, after a stop) until stop() or close()."""
        self._refusing = False
        if self._sock is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(16)
        sock.settimeout(0.2)
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
        self._thread.start()
        return self

    def _serve(self, sock: socket.socket) -> None:
        while self._sock is sock:
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._refusing:  # down: reset the connection, as a host with nothing listening
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(None)
        with conn:
            self.requests += 1
            subprocess.run(
                [str(TANGD), str(self.keydir)],
                stdin=conn.fileno(),
                stdout=conn.fileno(),
                stderr=subprocess.DEVNULL,
                timeout=30,
                check=False,
            )

    @property
    def running(self) -> bool:
        return self._sock is not None and not self._refusing

    def rotate_keys(self) -> None:
        """Rotate as Tang's documentation says: new keys, the old ones hidden (renamed with a
        leading dot), which still recover what they bound and are no longer advertised."""
        old = self._keys(hidden=False)
        subprocess.run([str(TANGD_KEYGEN), str(self.keydir)], check=True, capture_output=True)
        for key in old:
            key.rename(key.with_name("." + key.name))

    def unrotate_keys(self) -> None:
        """Undo rotate_keys: the hidden keys advertised again, the newer ones gone."""
        hidden = self._keys(hidden=True)
        assert hidden, "no hidden keys: nothing was rotated"
        for key in self._keys(hidden=False):
            key.unlink()
        for key in hidden:
            key.rename(key.with_name(key.name[1:]))

    def _keys(self, *, hidden: bool) -> list[Path]:
        # pathlib's glob matches names that start with a dot too: tell them apart by name.
        return sorted(k for k in self.keydir.glob("*.jwk") if k.name.startswith(".") == hidden)

    def stop(self) -> None:
        """An outage: every connection is reset from now on. The port stays this server's, so
        nothing else on the machine (another test's server) can take it before start()."""
        if self._sock is not None:
            self._refusing = True

    def close(self) -> None:
        """Stop listening for good (the end of a test)."""
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def make_tang(tmp_path: Path, name: str) -> TangServer:
    require(str(TANGD))
    require(str(TANGD_KEYGEN))
    keydir = tmp_path / f"tang-{name}"
    keydir.mkdir()
    subprocess.run([str(TANGD_KEYGEN), str(keydir)], check=True, capture_output=True)
    assert len(list(keydir.glob("*.jwk"))) == 2, "tangd-keygen makes a signing and an exchange key"
    return TangServer(keydir)


def losetup(*args: str) -> str:
    proc = subprocess.run([require("losetup"), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"losetup {' '.join(args)} failed: {proc.stderr.strip()} (loop devices needed)")
    return proc.stdout.strip()


class Volume:
    """A file-backed loop device standing in for an attached Cinder volume, with the by-id link
    the guest would see (/dev/disk/by-id/virtio-<first 20 characters of the volume ID>)."""

    def __init__(self, root: Path, size_mib: int = 64) -> None:
        self.id = str(uuid.uuid4())
        self.image = root / f"volume-{self.id}.img"
        with open(self.image, "wb") as handle:
            handle.truncate(size_mib * 1024 * 1024)
        self.device = losetup("--find", "--show", str(self.image))
        self.by_id_dir = root / "by-id"
        self.by_id_dir.mkdir(exist_ok=True)
        (self.by_id_dir / f"virtio-{self.id[:20]}").symlink_to(self.device)

    def detach(self) -> None:
        subprocess.run(["losetup", "-d", self.device], check=False, capture_output=True)


class Guest:
    """A sandboxed 'instance': config, metadata, mapper dir, mountpoints and a tmpfs runtime
    dir, all in temporary directories, driving the real script. `chattr` is recorded, not run:
    an immutable directory would outlive the test (the VM suite runs the real one)."""

    def __init__(self, root: Path, tang_urls: list[str], threshold: int = 1,
                 size_mib: int = 64) -> None:
        self.root = root
        root.mkdir(parents=True)
        self.volume = Volume(root, size_mib)
        self.mapper_dir = root / "mapper"
        self.mapper_dir.mkdir()
        self.etc = root / "etc"
        self.etc.mkdir()
        self.mountpoint = root / "srv" / "data"
        self.metadata = root / "config-drive" / "openstack" / "latest" / "meta_data.json"
        self.metadata.parent.mkdir(parents=True)
        self.metadata.write_text(
            json.dumps({"uuid": str(uuid.uuid4()), "meta": {"ssb_volume_data": self.volume.id}})
        )
        self.config = self.etc / "luks-tang.json"
        self.write_config(tang_urls, threshold)
        # The initial key must only ever touch tmpfs; /dev/shm is tmpfs on every Linux.
        self.runtime_dir = Path("/dev/shm") / f"ssb-test-{uuid.uuid4().hex[:12]}"
        self.chattr_log = root / "chattr.log"
        self.fake_chattr = root / "bin" / "chattr"
        self.fake_chattr.parent.mkdir()
        self.fake_chattr.write_text(f'#!/bin/sh\necho "$@" >> {self.chattr_log}\n')
        self.fake_chattr.chmod(0o755)

    def write_config(self, tang_urls: list[str], threshold: int = 1) -> None:
        self.config.write_text(
            json.dumps(
                {
                    "tang_servers": tang_urls,
                    "threshold": threshold,
                    "volumes": [
                        {
                            "name": "data",
                            "metadata_key": "ssb_volume_data",
                            "mountpoint": str(self.mountpoint),
                            "filesystem": "ext4",
                        }
                    ],
                }
            )
        )

    def env(self, **overrides: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "SSB_LUKS_CONFIG": str(self.config),
                "SSB_METADATA_SOURCES": str(self.metadata),
                "SSB_METADATA_TIMEOUT": "2",
                "SSB_BY_ID_DIR": str(self.volume.by_id_dir),
                "SSB_MAPPER_DIR": str(self.mapper_dir),
                "SSB_RUNTIME_DIR": str(self.runtime_dir),
                "SSB_DEVICE_TIMEOUT": "5",
                "SSB_POLL_INTERVAL": "0.2",
                "SSB_CMD_CLEVIS": f"{sys.executable} {FAKE_DM_CLEVIS}",
                "SSB_CMD_CHATTR": str(self.fake_chattr),
                "SSB_CMD_UDEVADM": "",
            }
        )
        env.update(overrides)
        return env

    def run(self, **overrides: str) -> subprocess.CompletedProcess[str]:
        for tool in ("cryptsetup", "clevis", "blkid", "mkfs.ext4", "mount", "losetup", "jose"):
            require(tool)
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, str(SCRIPT)],
            env=self.env(**overrides),
            capture_output=True,
            text=True,
            timeout=300,
        )
        proc.elapsed = time.monotonic() - started  # type: ignore[attr-defined]
        return proc

    def mapper_device(self) -> Path:
        return self.mapper_dir / "ssb-data"

    def is_mounted(self) -> bool:
        return os.path.ismount(self.mountpoint)

    def shutdown(self) -> None:
        """What a reboot does to the guest: unmount, close the mapping, forget tmpfs."""
        if self.is_mounted():
            subprocess.run(["umount", str(self.mountpoint)], check=True)
        mapped = self.mapper_device()
        if mapped.is_symlink():
            target = os.readlink(mapped)
            mapped.unlink()
            subprocess.run(["losetup", "-d", target], check=False, capture_output=True)
        shutil.rmtree(self.runtime_dir, ignore_errors=True)

    def cleanup(self) -> None:
        self.shutdown()
        self.volume.detach()
