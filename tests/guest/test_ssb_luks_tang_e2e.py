"""The guest script run for real against a real Tang server and a file-backed loop device.

Real: Tang, clevis (encrypt, bind, list, pass), cryptsetup (luksFormat, luksKillSlot, config,
luksDump, test-passphrase), blkid, mkfs.ext4, mount.
Stand-in: the dm-crypt mapping itself (no device-mapper in the test kernel), see
fake_dm_clevis.py, and so closing it (Guest.shutdown). The same script runs with real dm-crypt
and systemd in tests/vm.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from guest_harness import Guest, TangServer

MIB = 1024 * 1024


def luks_json(device: str) -> dict:
    out = subprocess.run(
        ["cryptsetup", "luksDump", "--dump-json-metadata", device],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def blkid(device: str | Path) -> dict[str, str]:
    proc = subprocess.run(
        ["blkid", "-p", "-o", "export", str(device)], capture_output=True, text=True, check=False
    )
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def tang_passphrase(device: str, slot: str) -> bytes:
    """What Tang gives back for the slot: the secret the script must never print."""
    return subprocess.run(
        ["clevis", "luks", "pass", "-d", device, "-s", slot], capture_output=True, check=True
    ).stdout


def table_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]


def test_first_boot_reboot_rebuild_and_tang_outage(guest_factory, tang: TangServer) -> None:
    guest: Guest = guest_factory([tang.url])
    device = guest.volume.device

    # --- first boot: empty volume -> LUKS2 bound to Tang, ext4, mounted ---------------------
    first = guest.run()
    print(f"first boot: {first.elapsed:.1f} s")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "is empty: creating LUKS2" in first.stdout

    meta = luks_json(device)
    assert list(meta["keyslots"]) == ["1"], "only the Tang-bound slot may remain"
    assert [t["type"] for t in meta["tokens"].values()] == ["clevis"]
    assert meta["segments"]["0"]["encryption"] == "aes-xts-plain64"
    assert blkid(device)["LABEL"] == "ssb-data", "the label marks the volume as in use"
    binding = subprocess.run(
        ["clevis", "luks", "list", "-d", device], capture_output=True, text=True, check=True
    ).stdout
    assert binding.startswith("1: sss ")
    assert json.loads(binding.split(" ", 2)[2].strip("'\n")) == {
        "t": 1,
        "pins": {"tang": [{"url": tang.url}]},
    }

    luks_uuid = blkid(device)["UUID"]
    mapper = guest.mapper_device()
    assert f"chattr +i {guest.mountpoint}" in first.stdout
    assert guest.is_mounted()
    assert blkid(mapper)["TYPE"] == "ext4"
    assert oct(guest.mountpoint.stat().st_mode & 0o777) == "0o755"  # ext4 root, mounted over

    # The initial key lived only in the tmpfs runtime dir and is gone; the Tang-recovered
    # passphrase never appears in the log.
    assert list(guest.runtime_dir.iterdir()) == []
    secret = tang_passphrase(device, "1")
    assert len(secret) >= 32
    log = (first.stdout + first.stderr).encode()
    assert secret not in log and secret.strip() not in log

    (guest.mountpoint / "patient.txt").write_text("journal entry 1\n")

    # --- the script runs again while everything is up: nothing to do -----------------------
    again = guest.run()
    assert again.returncode == 0, again.stdout
    assert "luksFormat" not in again.stdout
    assert "already unlocked and mounted" in again.stdout

    # --- reboot: unlock through Tang, never reformat ---------------------------------------
    guest.shutdown()
    assert not guest.is_mounted()
    reboot = guest.run()
    print(f"reboot: {reboot.elapsed:.1f} s")
    assert reboot.returncode == 0, reboot.stdout + reboot.stderr
    assert "never reformatted" in reboot.stdout
    assert "luksFormat" not in reboot.stdout and "mkfs" not in reboot.stdout
    assert (guest.mountpoint / "patient.txt").read_text() == "journal entry 1\n"
    assert blkid(device)["UUID"] == luks_uuid

    # --- Tang down at boot: the volume stays locked (and untouched) ------------------------
    guest.shutdown()
    tang.stop()
    outage = guest.run()
    assert outage.returncode == 1
    assert "could not unlock" in outage.stdout
    assert not guest.is_mounted() and not guest.mapper_device().exists()
    assert blkid(device)["UUID"] == luks_uuid
    assert list(luks_json(device)["keyslots"]) == ["1"]

    tang.start()
    back = guest.run()
    assert back.returncode == 0, back.stdout + back.stderr
    assert (guest.mountpoint / "patient.txt").read_text() == "journal entry 1\n"


def test_threshold_two_of_two_tang_servers(
    guest_factory, tang: TangServer, tang2: TangServer
) -> None:
    guest: Guest = guest_factory([tang.url, tang2.url], threshold=2)
    assert guest.run().returncode == 0
    guest.shutdown()

    tang2.stop()
    one_down = guest.run()
    assert one_down.returncode == 1, "t=2 must not unlock with one of two servers"
    assert not guest.is_mounted()


def test_refuses_a_device_with_a_filesystem(guest_factory, tang: TangServer) -> None:
    guest: Guest = guest_factory([tang.url])
    subprocess.run(["mkfs.ext4", "-q", guest.volume.device], check=True)
    before = blkid(guest.volume.device)

    result = guest.run()
    assert result.returncode == 1
    assert "is not LUKS (" in result.stdout and "TYPE=ext4" in result.stdout
    assert "refusing to overwrite" in result.stdout
    assert blkid(guest.volume.device) == before
    assert "luksFormat" not in result.stdout


@pytest.mark.parametrize("offset", [512 * 1024, 40 * MIB, 63 * MIB + 4096])
def test_refuses_a_device_with_unknown_non_zero_data(
    guest_factory, tang: TangServer, offset: int
) -> None:
    """Data at the start, in the middle (behind a zero first MiB), or near the end."""
    guest: Guest = guest_factory([tang.url])
    payload = os.urandom(128 * 1024)
    with open(guest.volume.device, "r+b") as dev:
        dev.seek(offset)
        dev.write(payload)
    result = guest.run()
    assert result.returncode == 1
    assert "holds non-zero data" in result.stdout
    with open(guest.volume.image, "rb") as img:
        img.seek(offset)
        assert img.read(len(payload)) == payload


def test_data_between_sampled_windows_is_found(guest_factory, tang: TangServer) -> None:
    """The audit's case: 512 KiB of random data, no signature, at byte 10545152 of a 1 GiB
    volume, which lies between two of the windows a sampling check reads. Every byte is read
    before formatting, so the volume is refused and the data is untouched."""
    guest: Guest = guest_factory([tang.url], size_mib=1024)
    offset = 10545152
    payload = os.urandom(512 * 1024)
    with open(guest.volume.device, "r+b") as dev:
        dev.seek(offset)
        dev.write(payload)
    result = guest.run()
    assert result.returncode == 1, result.stdout
    assert "luksFormat" not in result.stdout
    assert f"holds non-zero data at byte {offset}" in result.stdout
    assert "blkdiscard" in result.stdout  # how to proceed when the data may go
    with open(guest.volume.image, "rb") as img:
        img.seek(offset)
        assert img.read(len(payload)) == payload


def test_a_blkid_error_is_an_error_not_an_empty_volume(guest_factory, tang: TangServer,
                                                       tmp_path: Path) -> None:
    """blkid -p exits 2 for "nothing found" and for errors alike: an error (a message on its
    stderr) never lets the volume count as empty, even an all-zero one."""
    guest: Guest = guest_factory([tang.url])
    failing = tmp_path / "blkid-failing"
    failing.write_text('#!/bin/sh\necho "blkid: error: $5: Input/output error" >&2\nexit 2\n')
    failing.chmod(0o755)
    result = guest.run(SSB_CMD_BLKID=str(failing))
    assert result.returncode == 1, result.stdout
    assert "blkid could not probe" in result.stdout
    assert "luksFormat" not in result.stdout
    assert blkid(guest.volume.device) == {}
    assert guest.run().returncode == 0  # the real blkid: the empty volume is formatted


def test_tang_unreachable_on_first_boot_leaves_the_volume_empty(
    guest_factory, tang: TangServer
) -> None:
    guest: Guest = guest_factory([tang.url])
    tang.stop()
    result = guest.run()
    assert result.returncode == 1
    assert "left untouched" in result.stdout
    assert blkid(guest.volume.device) == {}
    with open(guest.volume.image, "rb") as img:
        assert img.read(MIB) == bytes(MIB)

    tang.start()  # next boot
    assert guest.run().returncode == 0


def test_unfinished_format_without_binding_is_redone(guest_factory, tang: TangServer) -> None:
    """A crash after luksFormat but before the Tang binding leaves a LUKS header nobody can
    open (the initial key was in tmpfs). Labelled ssb-pending, it never held data: redo it."""
    guest: Guest = guest_factory([tang.url])
    keyfile = Path("/dev/shm") / f"{guest.runtime_dir.name}-lost-key"
    keyfile.write_bytes(os.urandom(64))
    try:
        subprocess.run(
            [
                "cryptsetup",
                "luksFormat",
                "--batch-mode",
                "--type",
                "luks2",
                "--pbkdf",
                "pbkdf2",
                "--pbkdf-force-iterations",
                "1000",
                "--label",
                "ssb-pending",
                "--key-file",
                str(keyfile),
                guest.volume.device,
            ],
            check=True,
            capture_output=True,
        )
    finally:
        keyfile.unlink()
    old_uuid = blkid(guest.volume.device)["UUID"]

    result = guest.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "unfinished LUKS volume never bound to Tang" in result.stdout
    assert blkid(guest.volume.device)["UUID"] != old_uuid
    assert list(luks_json(guest.volume.device)["keyslots"]) == ["1"]
    assert guest.is_mounted()


def test_interrupted_before_mkfs_gets_its_filesystem(guest_factory, tang: TangServer) -> None:
    """Bound to Tang but mkfs never ran (label still ssb-pending): the next run makes the
    filesystem instead of refusing, because such a volume was never mounted."""
    guest: Guest = guest_factory([tang.url])
    crashed = guest.run(SSB_CMD_MKFS_EXT4="false")
    assert crashed.returncode == 1
    assert blkid(guest.volume.device)["LABEL"] == "ssb-pending"
    guest.shutdown()

    result = guest.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "never held a filesystem" in result.stdout
    assert blkid(guest.volume.device)["LABEL"] == "ssb-data"
    assert guest.is_mounted()


def test_missing_metadata_key_and_missing_device(guest_factory, tang: TangServer) -> None:
    guest: Guest = guest_factory([tang.url])
    guest.metadata.write_text(json.dumps({"meta": {}}))
    no_key = guest.run()
    assert no_key.returncode == 1
    assert "has no key 'ssb_volume_data'" in no_key.stdout

    guest.metadata.write_text(
        json.dumps({"meta": {"ssb_volume_data": "0b0e9f4e-1111-2222-3333-444455556666"}})
    )
    no_device = guest.run(SSB_DEVICE_TIMEOUT="1")
    assert no_device.returncode == 1
    assert "virtio-0b0e9f4e-1111-2222-3" in no_device.stdout
    assert "did not appear within 1 s" in no_device.stdout


def test_documented_recovery_passphrase_and_rebind_to_a_new_tang(
    guest_factory, tang: TangServer, tang2: TangServer
) -> None:
    """modules/volume/README.md 'Recovery': add an offline passphrase while Tang works, lose
    every Tang server, bind the volume to a new Tang with the passphrase, boot again."""
    guest: Guest = guest_factory([tang.url])
    assert guest.run().returncode == 0
    (guest.mountpoint / "patient.txt").write_text("kept\n")
    device = guest.volume.device
    work = Path("/dev/shm") / f"{guest.runtime_dir.name}-recovery"
    work.mkdir()
    try:
        tang_key, recovery = work / "tang.key", work / "recovery"
        tang_key.write_bytes(tang_passphrase(device, "1"))
        recovery.write_bytes(b"correct horse battery staple recovery\n")
        subprocess.run(
            [
                "cryptsetup",
                "luksAddKey",
                "--batch-mode",
                "--pbkdf",
                "pbkdf2",
                "--key-file",
                str(tang_key),
                device,
                str(recovery),
            ],
            check=True,
            capture_output=True,
        )
        tang_key.unlink()

        guest.shutdown()
        tang.stop()  # every Tang server of the volume is gone
        assert guest.run().returncode == 1
        subprocess.run(
            ["cryptsetup", "open", "--test-passphrase", "--key-file", str(recovery), device],
            check=True,
        )
        subprocess.run(["clevis", "luks", "unbind", "-f", "-d", device, "-s", "1"], check=True)
        subprocess.run(
            [
                "clevis",
                "luks",
                "bind",
                "-y",
                "-k",
                str(recovery),
                "-d",
                device,
                "sss",
                json.dumps({"t": 1, "pins": {"tang": [{"url": tang2.url}]}}),
            ],
            check=True,
            capture_output=True,
        )
    finally:
        for path in work.iterdir():
            path.unlink()
        work.rmdir()

    guest.write_config([tang2.url])
    result = guest.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "never reformatted" in result.stdout
    assert (guest.mountpoint / "patient.txt").read_text() == "kept\n"


# Every command of the first formatting, in order: (SSB_CMD_ name, what its arguments contain).
FORMAT_STEPS = [
    ("CRYPTSETUP", "luksFormat"), ("CLEVIS", "bind"), ("CLEVIS", "pass"),
    ("CRYPTSETUP", "--test-passphrase"), ("CRYPTSETUP", "luksKillSlot"), ("CLEVIS", "unlock"),
    ("MKFS_EXT4", ""), ("CRYPTSETUP", "config"), ("MOUNT", ""),
]


def _crash_after(guest: Guest, tool: str, needle: str) -> dict[str, str]:
    """An override that runs the real command, then dies as if the power went (exit 137) when
    its arguments contain `needle`: the run stops right after that step took effect."""
    real = guest.env()[f"SSB_CMD_{tool}"] if f"SSB_CMD_{tool}" in guest.env() else {
        "CRYPTSETUP": "cryptsetup", "MKFS_EXT4": "mkfs.ext4", "MOUNT": "mount"}[tool]
    wrapper = guest.root / f"crash-after-{tool.lower()}"
    wrapper.write_text(f'#!/bin/sh\n{real} "$@"\nrc=$?\ncase " $* " in *"{needle}"*) exit 137;; esac\n'
                       'exit $rc\n')
    wrapper.chmod(0o755)
    return {f"SSB_CMD_{tool}": str(wrapper)}


@pytest.mark.parametrize(("tool", "needle"), FORMAT_STEPS,
                         ids=[f"{t.lower()}-{n.strip('-') or 'run'}" for t, n in FORMAT_STEPS])
def test_a_crash_after_any_formatting_step_is_finished_at_the_next_boot(
        guest_factory, tang: TangServer, tool: str, needle: str) -> None:
    guest: Guest = guest_factory([tang.url])
    crashed = guest.run(**_crash_after(guest, tool, needle))
    assert crashed.returncode == 1, crashed.stdout
    guest.shutdown()  # the reboot: mappings gone, tmpfs (and the initial key) gone
    again = guest.run()
    assert again.returncode == 0, again.stdout + again.stderr
    assert guest.is_mounted()
    assert blkid(guest.volume.device)["LABEL"] == "ssb-data"
    meta = luks_json(guest.volume.device)
    assert list(meta["keyslots"]) == ["1"], "only the Tang-bound slot may remain"
    assert [t["type"] for t in meta["tokens"].values()] == ["clevis"]


@pytest.mark.parametrize("failing", ["CLEVIS", "BLKID", "CRYPTSETUP", "MKFS_EXT4"])
def test_a_volume_holding_data_is_never_reformatted_whatever_fails(
        guest_factory, tang: TangServer, failing: str) -> None:
    guest: Guest = guest_factory([tang.url])
    assert guest.run().returncode == 0
    (guest.mountpoint / "patient.txt").write_text("kept\n")
    uuid = blkid(guest.volume.device)["UUID"]
    guest.shutdown()
    broken = guest.run(**{f"SSB_CMD_{failing}": "false"})
    assert "luksFormat" not in broken.stdout and "mkfs" not in broken.stdout
    guest.shutdown()
    assert blkid(guest.volume.device)["UUID"] == uuid
    back = guest.run()
    assert back.returncode == 0, back.stdout + back.stderr
    assert (guest.mountpoint / "patient.txt").read_text() == "kept\n"
