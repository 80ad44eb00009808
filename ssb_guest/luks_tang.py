#!/usr/bin/python3
"""ssb-luks-tang: encrypt and mount data volumes with LUKS2, unlocked only through Tang.

Installed by safespring-blueprints through cloud-init and run as root by
ssb-volumes.service at every boot, and again every minute until it succeeds (Tang or the
volume may not be there yet); it is idempotent. `start` (the default), for every volume listed
in the configuration file:

  1. reads the volume's OpenStack ID from the instance metadata (cloud-init's instance data,
     else the metadata service),
  2. waits (bounded) for /dev/disk/by-id/virtio-<first 20 characters of the ID>,
  3. if the device is LUKS: unlocks it with `clevis luks unlock` (through Tang) and mounts it
     (a reboot, or a replaced instance getting its old volume back: never reformats);
     if it carries any other signature, or any non-zero byte (every byte is read), or blkid
     or a read fails: refuses and exits non-zero, saying how to proceed;
     if it is empty: formats LUKS2 with a random key that lives only in tmpfs, binds it to the
     Tang servers with a Shamir (sss) pin, verifies that Tang can unlock it, removes the random
     key's slot (only Tang, or a recovery passphrase added later, can unlock it), opens it,
     makes the filesystem and mounts it.

An interrupted first formatting is finished on the next run: the LUKS label stays "ssb-pending"
until the filesystem exists, and such a volume is formatted again only when its header shows it
was never bound to Tang (nobody can open it: its initial key lived in tmpfs). Whether a command
failed is never read as "the volume is empty".

The mountpoint directory underneath is made immutable (chattr +i), so nothing can be written
to the unencrypted boot disk there while the volume is not mounted.

`stop` (ExecStop of the unit, at shutdown) unmounts the volumes and closes their mappings, so a
shutdown never waits on a device systemd did not open.

No key material is ever printed, logged or written to persistent storage. The script holds no
deployment-specific values: everything comes from the configuration file, e.g.

  {"tang_servers": ["https://tang1.example.se", "https://tang2.example.se"],
   "threshold": 1,
   "volumes": [{"name": "data", "metadata_key": "ssb_volume_data",
                "mountpoint": "/srv/data", "filesystem": "ext4"}]}

A Tang server may also be given as {"url": "...", "thp": "<key thumbprint>"}; with a
thumbprint the advertisement is verified instead of trusted on first use.

Everything the script touches can be redirected (for tests and unusual images) by
environment variables, listed in ENV_DEFAULTS below. Python 3.10+ standard library only
(see ssb_guest/__init__.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

PROG = "ssb-luks-tang"

# Every path, command and timeout is overridable through these environment variables.
ENV_DEFAULTS: dict[str, str] = {
    "SSB_LUKS_CONFIG": "/etc/safespring-blueprints/luks-tang.json",
    # Comma-separated; files (config drive) and http(s) URLs (metadata service), tried in order.
    # cloud-init's instance data holds the metadata of any datasource (config drive or
    # metadata service); the metadata service is asked directly when it is missing.
    "SSB_METADATA_SOURCES": (
        "/run/cloud-init/instance-data.json,"
        "http://169.254.169.254/openstack/latest/meta_data.json"
    ),
    "SSB_METADATA_TIMEOUT": "120",
    "SSB_BY_ID_DIR": "/dev/disk/by-id",
    "SSB_MAPPER_DIR": "/dev/mapper",
    "SSB_RUNTIME_DIR": "/run/safespring-blueprints",
    "SSB_MOUNTINFO": "/proc/self/mountinfo",
    "SSB_DEVICE_TIMEOUT": "600",
    "SSB_POLL_INTERVAL": "2",
    "SSB_CMD_CRYPTSETUP": "cryptsetup",
    "SSB_CMD_CLEVIS": "clevis",
    "SSB_CMD_BLKID": "blkid",
    "SSB_CMD_MKFS_EXT4": "mkfs.ext4",
    "SSB_CMD_MKFS_XFS": "mkfs.xfs",
    "SSB_CMD_MOUNT": "mount",
    "SSB_CMD_UMOUNT": "umount",
    "SSB_CMD_CHATTR": "chattr",
    "SSB_CMD_UDEVADM": "udevadm",
    "SSB_CMD_APT_GET": "apt-get",
}

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
META_KEY_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,255}$")
UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
MOUNTPOINT_RE = re.compile(r"^/[A-Za-z0-9._/-]*$")
THP_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
PACKAGE_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]{1,63}$")
# The commands the setup cannot do without (the packages list installs them).
REQUIRED_COMMANDS = ("CRYPTSETUP", "CLEVIS", "BLKID", "MKFS_EXT4")
FILESYSTEMS = ("ext4", "xfs")
# Mountpoints that would hide or break the operating system if a volume were mounted there.
FORBIDDEN_MOUNTPOINTS = {
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib64",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/sys",
    "/tmp",
    "/usr",
    "/var",
    "/home",
    "/mnt",
    "/srv",
    "/opt",
}
# A fresh Cinder/Ceph volume reads back as zeros. Before formatting, every byte of the device
# is read and must be zero: a sampled check missed data between its windows. The first and last
# MiB and SAMPLE_WINDOWS windows are read first (a used volume is refused within seconds), then
# the whole device in READ_CHUNK pieces. Progress is kept in the runtime directory (tmpfs, this
# boot only), so a run stopped by the unit's time limit goes on where it stopped.
EMPTY_CHECK_BYTES = 1024 * 1024
SAMPLE_WINDOWS = 1024
SAMPLE_BYTES = 64 * 1024
READ_CHUNK = 8 * 1024 * 1024
CHECKPOINT_BYTES = 1024 * 1024 * 1024
TMPFS_TYPES = ("tmpfs", "ramfs")
INITIAL_KEY_SLOT = "0"
# LUKS2 label while a volume this script formatted has no filesystem yet. Only such a volume
# may get a filesystem on a later run (after a crash between luksFormat and mkfs).
PENDING_LABEL = "ssb-pending"


class SetupError(Exception):
    """A condition that must stop the setup; the message says what an operator should do."""


def log(message: str) -> None:
    """Log one step to stdout (the journal or cloud-init's output log picks it up)."""
    print(f"{PROG}: {message}", flush=True)


def env(name: str) -> str:
    """Return the overridable setting `name`."""
    return os.environ.get(name, ENV_DEFAULTS[name])


def cmd(name: str) -> list[str]:
    """Return the command for SSB_CMD_<name> as an argv prefix (it may carry arguments)."""
    return shlex.split(env("SSB_CMD_" + name))


# --------------------------------------------------------------------------------------------
# Running commands. Output of commands that may carry secrets is captured and never logged.


def run(
    argv: Sequence[str],
    *,
    input_bytes: bytes | None = None,
    secret_output: bool = False,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run argv, logging the command line (which never holds key material)."""
    log("run: " + " ".join(shlex.quote(a) for a in argv))
    try:
        proc = subprocess.run(
            list(argv),
            input=input_bytes,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as exc:
        if not check:
            log(f"  {argv[0]} is not installed; skipped")
            return subprocess.CompletedProcess(list(argv), 127, b"", b"")
        raise SetupError(f"command not found: {argv[0]} (is the package installed?)") from exc
    if not secret_output and proc.stdout.strip():
        for line in proc.stdout.decode("utf-8", "replace").rstrip().splitlines():
            log("  " + line)
    if proc.stderr.strip():
        for line in proc.stderr.decode("utf-8", "replace").rstrip().splitlines():
            log("  stderr: " + line)
    if check and proc.returncode != 0:
        raise SetupError(f"{argv[0]} failed with exit code {proc.returncode}")
    return proc


# --------------------------------------------------------------------------------------------
# Configuration.


def _tang_pin(server: Any, index: int) -> dict[str, str]:
    """Turn one tang_servers entry (URL string or {url, thp}) into a clevis tang pin config."""
    if isinstance(server, str):
        server = {"url": server}
    if not isinstance(server, dict) or set(server) - {"url", "thp"}:
        raise SetupError(f"tang_servers[{index}] must be a URL or an object with url and thp")
    url = server.get("url")
    if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+(/\S*)?$", url):
        raise SetupError(f"tang_servers[{index}] is not an http(s) URL: {url!r}")
    pin = {"url": url}
    if "thp" in server:
        if not isinstance(server["thp"], str) or not THP_RE.match(server["thp"]):
            raise SetupError(f"tang_servers[{index}].thp is not a key thumbprint")
        pin["thp"] = server["thp"]
    return pin


def load_config(path: str) -> dict[str, Any]:
    """Read and check the configuration file; every problem names the offending key."""
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except FileNotFoundError as exc:
        raise SetupError(f"configuration file {path} does not exist") from exc
    except (OSError, ValueError) as exc:
        raise SetupError(f"cannot read configuration file {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise SetupError("configuration must be a JSON object")
    unknown = set(raw) - {"tang_servers", "threshold", "volumes", "packages"}
    if unknown:
        raise SetupError(f"unknown configuration keys: {', '.join(sorted(unknown))}")

    servers = raw.get("tang_servers")
    if not isinstance(servers, list) or not servers:
        raise SetupError("tang_servers must be a non-empty list")
    pins = [_tang_pin(s, i) for i, s in enumerate(servers)]
    if len({p["url"] for p in pins}) != len(pins):
        raise SetupError("tang_servers lists the same URL twice")

    threshold = raw.get("threshold", 1)
    if isinstance(threshold, bool) or not isinstance(threshold, int):
        raise SetupError("threshold must be an integer")
    if not 1 <= threshold <= len(pins):
        raise SetupError(
            f"threshold must be between 1 and the number of tang_servers ({len(pins)})"
        )

    volumes = raw.get("volumes")
    if not isinstance(volumes, list):
        raise SetupError("volumes must be a list")
    checked: list[dict[str, str]] = []
    seen_names, seen_mounts = set(), set()
    for i, vol in enumerate(volumes):
        where = f"volumes[{i}]"
        if not isinstance(vol, dict):
            raise SetupError(f"{where} must be an object")
        missing = {"name", "metadata_key", "mountpoint", "filesystem"} - set(vol)
        extra = set(vol) - {"name", "metadata_key", "mountpoint", "filesystem"}
        if missing or extra:
            raise SetupError(
                f"{where}: missing keys {sorted(missing)}, unknown keys {sorted(extra)}"
            )
        name, key, mnt, fs = vol["name"], vol["metadata_key"], vol["mountpoint"], vol["filesystem"]
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise SetupError(f"{where}.name must match {NAME_RE.pattern}")
        if not isinstance(key, str) or not META_KEY_RE.match(key):
            raise SetupError(f"{where}.metadata_key is not a valid metadata key")
        if (
            not isinstance(mnt, str)
            or not MOUNTPOINT_RE.match(mnt)
            or "/../" in mnt + "/"
            or "/./" in mnt + "/"
            or "//" in mnt
            or (len(mnt) > 1 and mnt.endswith("/"))
            or mnt in FORBIDDEN_MOUNTPOINTS
        ):
            raise SetupError(
                f"{where}.mountpoint must be a normalised absolute path that is not a system"
                f" directory, e.g. /srv/data (got {mnt!r})"
            )
        if fs not in FILESYSTEMS:
            raise SetupError(f"{where}.filesystem must be one of {', '.join(FILESYSTEMS)}")
        if name in seen_names or mnt in seen_mounts:
            raise SetupError(f"{where}: duplicate volume name or mountpoint")
        seen_names.add(name)
        seen_mounts.add(mnt)
        checked.append({"name": name, "metadata_key": key, "mountpoint": mnt, "filesystem": fs})
    packages = raw.get("packages", [])
    if not isinstance(packages, list) or not all(
            isinstance(p, str) and PACKAGE_RE.match(p) for p in packages):
        raise SetupError("packages must be a list of Debian package names")
    return {"pins": pins, "threshold": threshold, "volumes": checked, "packages": packages}


# generator side: not installed
# The configuration file as the generator writes it: load_config() above reads what these write.
def config(*, tang_servers: Sequence[str], volumes: Sequence[dict[str, str]],
           packages: Sequence[str], threshold: int = 1) -> dict[str, Any]:
    """The configuration file's content; `volumes` as made by volume()."""
    return {"packages": list(packages), "tang_servers": list(tang_servers),
            "threshold": threshold, "volumes": list(volumes)}


def volume(*, name: str, metadata_key: str, mountpoint: str,
           filesystem: str = "ext4") -> dict[str, str]:
    """One entry of `volumes`: the volume's ID is the instance metadata's `metadata_key`."""
    return {"name": name, "metadata_key": metadata_key, "mountpoint": mountpoint,
            "filesystem": filesystem}


# end of generator side
def sss_config(pins: list[dict[str, str]], threshold: int) -> str:
    """The clevis sss pin configuration: any `threshold` of the Tang servers unlock."""
    return json.dumps({"t": threshold, "pins": {"tang": pins}}, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# Instance metadata.


def _read_source(source: str) -> dict[str, Any] | None:
    """Read one metadata document; None when the source is absent or unreachable now."""
    try:
        if source.startswith(("http://", "https://")):
            with urllib.request.urlopen(source, timeout=10) as resp:
                data = resp.read()
        else:
            if not os.path.exists(source):
                return None
            with open(source, "rb") as handle:
                data = handle.read()
    except (OSError, urllib.error.URLError) as exc:
        log(f"metadata source {source} not readable yet: {exc}")
        return None
    try:
        doc = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        raise SetupError(f"metadata source {source} is not valid JSON") from exc
    if not isinstance(doc, dict):
        raise SetupError(f"metadata source {source} is not a JSON object")
    # cloud-init's instance data keeps the datasource's own metadata under ds.meta_data.
    inner = doc.get("ds", {}).get("meta_data") if isinstance(doc.get("ds"), dict) else None
    if isinstance(inner, dict):
        return inner
    return doc


def read_metadata(sources: list[str], timeout: float, interval: float) -> dict[str, str]:
    """Return the instance's user metadata ("meta"), waiting a bounded time for a source."""
    deadline = time.monotonic() + timeout
    while True:
        for source in sources:
            doc = _read_source(source)
            if doc is not None:
                meta = doc.get("meta", {})
                if not isinstance(meta, dict):
                    raise SetupError(f"metadata source {source}: 'meta' is not an object")
                log(f"instance metadata read from {source}")
                return {str(k): str(v) for k, v in meta.items()}
        if time.monotonic() >= deadline:
            raise SetupError(
                "no instance metadata source answered within "
                f"{timeout:g} s: tried {', '.join(sources)}"
            )
        time.sleep(interval)


def volume_id_for(meta: dict[str, str], key: str) -> str:
    """The OpenStack volume ID stored under `key` in the instance metadata."""
    value = meta.get(key)
    if value is None:
        raise SetupError(f"instance metadata has no key {key!r}: is the volume attached?")
    if not UUID_RE.match(value):
        raise SetupError(f"instance metadata {key!r} is not a volume ID: {value!r}")
    return value.lower()


# --------------------------------------------------------------------------------------------
# Devices.


def wait_for_device(by_id_dir: str, volume_id: str, timeout: float, interval: float) -> str:
    """Wait for the virtio serial link of the volume and return the real device path."""
    link = os.path.join(by_id_dir, "virtio-" + volume_id[:20])
    deadline = time.monotonic() + timeout
    announced = False
    while not os.path.exists(link):
        if time.monotonic() >= deadline:
            raise SetupError(f"{link} did not appear within {timeout:g} s: is the volume attached?")
        if not announced:
            log(f"waiting up to {timeout:g} s for {link}")
            announced = True
        time.sleep(interval)
    device = os.path.realpath(link)
    log(f"volume {volume_id} is {device} ({link})")
    return device


def _readable(device: str) -> None:
    """Open and read the first bytes of `device` ourselves, or stop: blkid's "nothing found"
    and "could not open" are the same exit status, so only a readable device may be empty."""
    try:
        fd = os.open(device, os.O_RDONLY)
        try:
            os.read(fd, 4096)
        finally:
            os.close(fd)
    except OSError as exc:
        raise SetupError(f"cannot read {device} ({exc.strerror}): is the volume attached and "
                         "healthy? (dmesg shows I/O errors); nothing was written") from exc


def probe_signature(device: str) -> dict[str, str]:
    """Low-level probe of what is on the device: {} only when blkid found nothing on a device
    this script could read; any blkid error stops the setup."""
    _readable(device)
    proc = run([*cmd("BLKID"), "-p", "-o", "export", device], check=False)
    if proc.returncode == 2 and not proc.stderr.strip():  # blkid: nothing found
        return {}
    if proc.returncode != 0:
        raise SetupError(f"blkid could not probe {device} (exit {proc.returncode}): cannot tell"
                         " what it holds, so nothing was written")
    found = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if "=" in line:
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    return found


def _first_non_zero(handle: Any, offset: int, length: int, buf: bytearray) -> int | None:
    """The offset of the first non-zero byte in [offset, offset + length), or None."""
    handle.seek(offset)
    view = memoryview(buf)
    zero = bytes(len(buf))
    remaining = length
    while remaining > 0:
        n = handle.readinto(view[:min(len(buf), remaining)])
        if not n:
            break
        chunk = buf if n == len(buf) else buf[:n]
        if chunk != (zero if n == len(buf) else zero[:n]):
            chunk = bytes(chunk)
            return offset + len(chunk) - len(chunk.lstrip(b"\0"))
        offset += n
        remaining -= n
    return None


def _checkpoint_path(volume_id: str) -> str:
    return os.path.join(env("SSB_RUNTIME_DIR"), f"zero-proof-{volume_id}.json")


def _read_checkpoint(path: str, size: int) -> int:
    """Bytes already proven zero during this boot (0 when unknown or for another size)."""
    try:
        with open(path, encoding="utf-8") as handle:
            done = json.load(handle)
        if done.get("size") == size and isinstance(done.get("zero_up_to"), int):
            return max(0, min(done["zero_up_to"], size))
    except (OSError, ValueError, AttributeError):
        pass
    return 0


def _write_checkpoint(path: str, size: int, zero_up_to: int) -> None:
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    with open(path + ".new", "w", encoding="utf-8") as handle:
        json.dump({"size": size, "zero_up_to": zero_up_to}, handle)
    os.replace(path + ".new", path)


def first_non_zero(device: str, volume_id: str) -> int | None:
    """The offset of the first non-zero byte of the device, or None when all of it is zero.

    Every byte is read (a thin volume's unwritten extents read back as zeros without touching a
    disk); the sampled windows first, so a used volume is refused at once.
    """
    buf = bytearray(READ_CHUNK)
    checkpoint = _checkpoint_path(volume_id)
    try:
        with open(device, "rb", buffering=0) as handle:
            size = handle.seek(0, os.SEEK_END)
            regions = [(0, EMPTY_CHECK_BYTES),
                       (max(0, size - EMPTY_CHECK_BYTES), EMPTY_CHECK_BYTES)]
            step = size // (SAMPLE_WINDOWS + 1)
            regions += [(step * (i + 1), SAMPLE_BYTES) for i in range(SAMPLE_WINDOWS) if step]
            for offset, length in regions:
                found = _first_non_zero(handle, offset, length, buf)
                if found is not None:
                    return found
            start = _read_checkpoint(checkpoint, size)
            log(f"reading all {size} bytes of {device} to prove it is empty"
                + (f" (from byte {start}, proven zero earlier during this boot)" if start else ""))
            started, offset, reported = time.monotonic(), start, start
            while offset < size:
                length = min(CHECKPOINT_BYTES, size - offset)
                found = _first_non_zero(handle, offset, length, buf)
                if found is not None:
                    return found
                offset += length
                _write_checkpoint(checkpoint, size, offset)
                if offset - reported >= size // 10 or offset == size:
                    rate = (offset - start) / max(time.monotonic() - started, 1e-6)
                    log(f"  {offset * 100 // size}% of {device} read, all zero "
                        f"({rate / 1048576:.0f} MiB/s)")
                    reported = offset
    except OSError as exc:
        raise SetupError(f"cannot read {device} ({exc.strerror}): cannot prove it is empty, so"
                         " nothing was written (dmesg shows I/O errors)") from exc
    return None


def mapper_path(name: str) -> str:
    return os.path.join(env("SSB_MAPPER_DIR"), name)


def mapper_name(volume_name: str) -> str:
    return "ssb-" + volume_name


# --------------------------------------------------------------------------------------------
# Mounts.


def is_mounted(mountpoint: str) -> bool:
    """True when something is mounted exactly at `mountpoint` (from /proc/self/mountinfo)."""
    with open(env("SSB_MOUNTINFO"), encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            if len(fields) > 4:
                target = fields[4].replace("\\040", " ")
                if target == mountpoint:
                    return True
    return False


def filesystem_type_of(path: str) -> str:
    """The type of the filesystem holding `path` (longest matching mount in mountinfo)."""
    best, best_type = "", ""
    target = os.path.realpath(path)
    with open(env("SSB_MOUNTINFO"), encoding="utf-8") as handle:
        for line in handle:
            left, sep, right = line.partition(" - ")
            if not sep:
                continue
            mnt = left.split()[4]
            fstype = right.split()[0]
            inside = target == mnt or target.startswith(mnt.rstrip("/") + "/")
            if inside and len(mnt) >= len(best):
                best, best_type = mnt, fstype
    return best_type


# --------------------------------------------------------------------------------------------
# The two paths: an existing LUKS volume, and an empty one.


def luks_label(device: str) -> str:
    """The LUKS2 label (PENDING_LABEL until the volume got its filesystem)."""
    return probe_signature(device).get("LABEL", "")


def unlock(device: str, name: str) -> None:
    """Open the LUKS device through its Clevis (Tang) binding, unless it is open already."""
    if os.path.exists(mapper_path(name)):
        log(f"{mapper_path(name)} is already open")
        return
    log(f"unlocking {device} as {name} through Tang")
    try:
        run([*cmd("CLEVIS"), "luks", "unlock", "-d", device, "-n", name])
    except SetupError as exc:
        raise SetupError(
            f"could not unlock {device} through Tang: are enough Tang servers reachable? "
            "(recovery: see the volume module's README)"
        ) from exc
    if not os.path.exists(mapper_path(name)):
        raise SetupError(f"clevis reported success but {mapper_path(name)} does not exist")


def clevis_slots(device: str) -> list[str]:
    """Key slots of `device` that carry a Clevis binding (empty when there is none)."""
    proc = run([*cmd("CLEVIS"), "luks", "list", "-d", device], check=False)
    lines = proc.stdout.decode("utf-8", "replace").splitlines()
    slots = [ln.split(":", 1)[0].strip() for ln in lines if ":" in ln]
    return [s for s in slots if s.isdigit()]


def header(device: str) -> dict[str, list[str]]:
    """Active key slots and token types from the LUKS2 header (`cryptsetup luksDump`).

    A local read of the header: it fails only when the header is unreadable, and then the
    caller stops instead of guessing.
    """
    proc = run([*cmd("CRYPTSETUP"), "luksDump", device])
    found: dict[str, list[str]] = {"keyslots": [], "tokens": [], "clevis_keyslots": []}
    section, token = "", ""
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        if line and not line[0].isspace():
            section = line.split(":", 1)[0].strip().lower()
            continue
        match = re.match(r"^\s+(\d+): (\S+)", line)
        if match and section == "keyslots":
            found["keyslots"].append(match.group(1))
        elif match and section == "tokens":
            token = match.group(2)
            found["tokens"].append(token)
        elif section == "tokens" and token == "clevis":
            bound = re.match(r"^\s+Keyslot:\s+(\d+)", line)
            if bound:
                found["clevis_keyslots"].append(bound.group(1))
    return found


def preflight_tang(pins: list[dict[str, str]], threshold: int) -> None:
    """Fail before touching an empty device when the Tang servers cannot be used.

    Encrypting a dummy value with the same sss configuration fetches every server's
    advertisement (and checks pinned thumbprints); if that fails the device stays empty and the
    next boot simply tries again.
    """
    proc = run(
        [*cmd("CLEVIS"), "encrypt", "sss", sss_config(pins, threshold), "-y"],
        input_bytes=b"ssb-luks-tang preflight",
        secret_output=True,
        check=False,
    )
    if proc.returncode != 0 or proc.stdout.count(b".") != 4:
        raise SetupError(
            "the Tang servers are not usable (unreachable, or a pinned thumbprint does not"
            " match): the volume was left untouched"
        )
    log("Tang servers answered; their advertisements are valid")


def verify_tang_unlock(device: str) -> None:
    """Prove Tang can recover a working passphrase before the initial key is removed.

    `clevis luks pass` asks the Tang servers for the slot's passphrase; cryptsetup then tests it
    against the header. The passphrase only passes through this process's memory.
    """
    slots = [s for s in clevis_slots(device) if s != INITIAL_KEY_SLOT]
    if len(slots) != 1:
        raise SetupError(f"expected exactly one clevis binding on {device}, found {slots}")
    slot = slots[0]
    secret = run(
        [*cmd("CLEVIS"), "luks", "pass", "-d", device, "-s", slot], secret_output=True
    ).stdout
    try:
        if not secret:
            raise SetupError("clevis returned an empty passphrase")
        run(
            [
                *cmd("CRYPTSETUP"),
                "open",
                "--test-passphrase",
                "--key-slot",
                slot,
                "--key-file",
                "-",
                device,
            ],
            input_bytes=secret,
        )
    finally:
        secret = b""
    log(f"Tang binding in key slot {slot} unlocks {device}")


def format_and_bind(device: str, pins: list[dict[str, str]], threshold: int) -> None:
    """LUKS2-format an empty device and leave Tang (sss) as the only way to unlock it."""
    runtime_dir = env("SSB_RUNTIME_DIR")
    os.makedirs(runtime_dir, mode=0o700, exist_ok=True)
    os.chmod(runtime_dir, 0o700)
    fstype = filesystem_type_of(runtime_dir)
    if fstype not in TMPFS_TYPES:
        raise SetupError(
            f"{runtime_dir} is on {fstype or 'an unknown filesystem'}, not tmpfs: refusing to"
            " write the initial key where it could persist"
        )
    fd, keyfile = tempfile.mkstemp(dir=runtime_dir, prefix="initial-key.")
    try:
        with os.fdopen(fd, "wb") as handle:
            # 512 random bits as text: clevis reads key files through the shell, where NUL
            # bytes and trailing newlines would be lost.
            handle.write(secrets.token_hex(64).encode("ascii"))
        log(f"random initial key written to tmpfs ({runtime_dir}), mode 0600")
        # The initial key is 512 random bits and its slot is removed before the volume holds
        # any data, so a slow KDF would add nothing but seconds (clevis's own slot uses
        # pbkdf2 for the same reason). The data itself is aes-xts-plain64, 512-bit key.
        run(
            [
                *cmd("CRYPTSETUP"),
                "luksFormat",
                "--batch-mode",
                "--type",
                "luks2",
                "--cipher",
                "aes-xts-plain64",
                "--key-size",
                "512",
                "--pbkdf",
                "pbkdf2",
                "--pbkdf-force-iterations",
                "1000",
                "--label",
                PENDING_LABEL,
                "--key-slot",
                INITIAL_KEY_SLOT,
                "--key-file",
                keyfile,
                device,
            ]
        )
        run(
            [
                *cmd("CLEVIS"),
                "luks",
                "bind",
                "-y",
                "-k",
                keyfile,
                "-d",
                device,
                "sss",
                sss_config(pins, threshold),
            ]
        )
        verify_tang_unlock(device)
        run([*cmd("CRYPTSETUP"), "luksKillSlot", "--batch-mode", device, INITIAL_KEY_SLOT])
        log(f"initial key slot {INITIAL_KEY_SLOT} removed: only Tang unlocks {device} now")
    finally:
        with open(keyfile, "r+b") as handle:
            handle.write(b"\0" * 128)
            handle.flush()
            os.fsync(handle.fileno())
        os.unlink(keyfile)


def make_filesystem(device: str, name: str, vol: dict[str, str]) -> None:
    """Create the filesystem inside the opened LUKS device, then mark the volume as in use."""
    inner = mapper_path(name)
    if vol["filesystem"] == "ext4":
        run([*cmd("MKFS_EXT4"), "-q", inner])
    else:
        run([*cmd("MKFS_XFS"), "-q", inner])
    run([*cmd("CRYPTSETUP"), "config", "--label", "ssb-" + vol["name"], device])


def format_empty(device: str, name: str, vol: dict[str, str], config: dict[str, Any],
                 volume_id: str) -> None:
    """The first formatting of an empty volume, up to an open mapping with a filesystem."""
    preflight_tang(config["pins"], config["threshold"])
    format_and_bind(device, config["pins"], config["threshold"])
    # The proof of emptiness is spent: the device holds a LUKS header now.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_checkpoint_path(volume_id))
    unlock(device, name)
    make_filesystem(device, name, vol)


def open_volume(device: str, name: str, vol: dict[str, str], config: dict[str, Any],
                volume_id: str) -> None:
    """Bring a device to 'open mapping with the expected filesystem', never destroying data."""
    signature = probe_signature(device)
    if signature.get("TYPE") == "crypto_LUKS":
        run([*cmd("CRYPTSETUP"), "isLuks", device])
        pending = signature.get("LABEL") == PENDING_LABEL
        if pending:
            found = header(device)
            if "clevis" not in found["tokens"] and set(found["keyslots"]) <= {INITIAL_KEY_SLOT}:
                # Formatted by a run that stopped before the Tang binding: its initial key is
                # gone with the tmpfs, nobody can open it, and it never held data (the label
                # changes once the filesystem exists, before anything is mounted).
                log(f"{device} is an unfinished LUKS volume never bound to Tang: formatting again")
                format_empty(device, name, vol, config, volume_id)
                return
        log(f"{device} is LUKS: unlocking (an existing volume is never reformatted)")
        unlock(device, name)
        slots = header(device) if pending else None
        if slots and INITIAL_KEY_SLOT in slots["keyslots"] and (
                INITIAL_KEY_SLOT not in slots["clevis_keyslots"]):
            # Interrupted after the Tang binding, before the random key's slot was removed:
            # Tang has just opened the volume, so that slot (whose key is gone) can go.
            run([*cmd("CRYPTSETUP"), "luksKillSlot", "--batch-mode", device, INITIAL_KEY_SLOT])
        inner = probe_signature(mapper_path(name))
        if pending and not inner:
            log(f"{device} was formatted by an interrupted run and never held a filesystem")
            make_filesystem(device, name, vol)
        elif inner.get("TYPE") != vol["filesystem"]:
            raise SetupError(
                f"{mapper_path(name)} holds {inner.get('TYPE') or 'no filesystem'}, expected"
                f" {vol['filesystem']}: refusing to create one over data that may exist"
            )
        elif pending:
            log(f"{device} got its filesystem in an interrupted run: finishing")
            run([*cmd("CRYPTSETUP"), "config", "--label", "ssb-" + vol["name"], device])
    elif signature:
        described = ", ".join(f"{k}={v}" for k, v in sorted(signature.items()) if k != "DEVNAME")
        raise SetupError(
            f"{device} already holds something that is not LUKS ({described}): refusing to"
            " overwrite it"
        )
    elif (offset := first_non_zero(device, volume_id)) is not None:
        raise SetupError(
            f"{device} has no known signature but holds non-zero data at byte {offset}: refusing"
            " to format it. Is it the volume you meant to attach? If its content may be"
            f" destroyed, discard it (blkdiscard {device}) and this unit formats it at its next"
            " try, after reading it all again"
        )
    else:
        log(
            f"{device} is empty: creating LUKS2 bound to {len(config['pins'])} Tang server(s),"
            f" threshold {config['threshold']}"
        )
        format_empty(device, name, vol, config, volume_id)


def guard_mountpoint(mountpoint: str) -> None:
    """Create the mountpoint and make it immutable while nothing is mounted on it."""
    os.makedirs(mountpoint, mode=0o700, exist_ok=True)
    if not is_mounted(mountpoint):
        # Writes into an unmounted mountpoint would land on the unencrypted boot disk.
        run([*cmd("CHATTR"), "+i", mountpoint], check=False)


def setup_volume(vol: dict[str, str], meta: dict[str, str], config: dict[str, Any]) -> None:
    """Bring one configured volume to 'unlocked and mounted', never destroying data."""
    name = mapper_name(vol["name"])
    if is_mounted(vol["mountpoint"]) and os.path.exists(mapper_path(name)):
        log(f"volume {vol['name']} is already unlocked and mounted at {vol['mountpoint']}")
        return
    # First of all, so that while the volume cannot be opened (Tang down, not attached yet)
    # nothing can be written to the boot disk in its place.
    guard_mountpoint(vol["mountpoint"])
    volume_id = volume_id_for(meta, vol["metadata_key"])
    device = wait_for_device(
        env("SSB_BY_ID_DIR"),
        volume_id,
        float(env("SSB_DEVICE_TIMEOUT")),
        float(env("SSB_POLL_INTERVAL")),
    )
    udevadm = cmd("UDEVADM")
    if udevadm and udevadm[0]:
        run([*udevadm, "settle"], check=False)
    if os.path.exists(mapper_path(name)):
        log(f"{mapper_path(name)} is already open")
    else:
        open_volume(device, name, vol, config, volume_id)
    if is_mounted(vol["mountpoint"]):
        log(f"{vol['mountpoint']} is already mounted")
    else:
        run([*cmd("MOUNT"), "-t", vol["filesystem"], "-o", "nodev,nosuid", mapper_path(name),
             vol["mountpoint"]])
    log(f"volume {vol['name']} ready at {vol['mountpoint']}")


def stop_volume(vol: dict[str, str]) -> bool:
    """Unmount the volume and close its mapping; True when both are gone."""
    name = mapper_name(vol["name"])
    ok = True
    if is_mounted(vol["mountpoint"]):
        ok = run([*cmd("UMOUNT"), vol["mountpoint"]], check=False).returncode == 0
    if ok and os.path.exists(mapper_path(name)):
        ok = run([*cmd("CRYPTSETUP"), "close", name], check=False).returncode == 0
    log(f"volume {vol['name']} {'closed' if ok else 'could NOT be closed'}")
    return ok


def ensure_packages(packages: list[str]) -> None:
    """Install the packages first boot could not (a package mirror that was down then).

    cloud-init installs packages once; this unit runs until it succeeds, so it installs what
    it needs itself rather than fail every minute for good.
    """
    missing = [name for name in REQUIRED_COMMANDS if shutil.which(cmd(name)[0]) is None]
    if not missing:
        return
    if not packages:
        raise SetupError(f"{', '.join(cmd(n)[0] for n in missing)} not installed")
    log(f"{', '.join(cmd(n)[0] for n in missing)} not installed: installing {' '.join(packages)}")
    os.environ["DEBIAN_FRONTEND"] = "noninteractive"
    run([*cmd("APT_GET"), "update"], check=False)
    try:
        run([*cmd("APT_GET"), "install", "-y", "--no-install-recommends", *packages])
    except SetupError as exc:
        raise SetupError(f"could not install {' '.join(packages)} (is the package mirror "
                         "reachable?): the volumes were left untouched") from exc


def main(argv: list[str] | None = None) -> int:
    """Set up every configured volume; exit code 0 only when all of them are mounted."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n", 1)[0])
    parser.add_argument("--config", default=env("SSB_LUKS_CONFIG"), help="configuration file")
    parser.add_argument("action", nargs="?", choices=("start", "stop"), default="start",
                        help="start: unlock and mount (formatting empty volumes); stop: unmount"
                             " and close")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        if args.action == "stop":
            results = [stop_volume(vol) for vol in reversed(config["volumes"])]
            return 0 if all(results) else 1
        if not config["volumes"]:
            log("no volumes configured: nothing to do")
            return 0
        ensure_packages(config["packages"])
        meta = read_metadata(
            [s for s in env("SSB_METADATA_SOURCES").split(",") if s.strip()],
            float(env("SSB_METADATA_TIMEOUT")),
            float(env("SSB_POLL_INTERVAL")),
        )
        for vol in config["volumes"]:
            setup_volume(vol, meta, config)
    except SetupError as exc:
        log(f"ERROR: {exc}")
        return 1
    log("all volumes ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
