"""The guest script's pure parts: configuration checks, metadata lookup (config drive file and
a real HTTP metadata service on loopback), device wait, table files, tmpfs detection."""

from __future__ import annotations

import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from guest_harness import SCRIPT

VOLUME_ID = "5c4d7c2e-8f31-4b8e-9a70-0e1f2a3b4c5d"


def write_config(tmp_path: Path, **overrides: object) -> Path:
    config: dict[str, object] = {
        "tang_servers": ["https://tang1.example.se", "https://tang2.example.se"],
        "threshold": 1,
        "volumes": [
            {
                "name": "data",
                "metadata_key": "ssb_volume_data",
                "mountpoint": "/srv/data",
                "filesystem": "ext4",
            }
        ],
    }
    config.update(overrides)
    path = tmp_path / "luks-tang.json"
    path.write_text(json.dumps(config))
    return path


def test_script_is_executable() -> None:
    """(Its Python version: tests/ssb_guest/test_compatibility.py.)"""
    assert os.access(SCRIPT, os.X_OK)
    assert SCRIPT.read_text().startswith("#!/usr/bin/python3\n")


def test_script_holds_no_deployment_values() -> None:
    text = SCRIPT.read_text()
    for needle in ("example.se", "safedc.net", "sto1", "sto2", "osl2"):
        assert needle not in text.split('"""', 2)[2], needle


def test_valid_config(script: ModuleType, tmp_path: Path) -> None:
    config = script.load_config(str(write_config(tmp_path, threshold=2)))
    assert config["threshold"] == 2
    assert config["pins"] == [
        {"url": "https://tang1.example.se"},
        {"url": "https://tang2.example.se"},
    ]
    assert json.loads(script.sss_config(config["pins"], 2)) == {
        "t": 2,
        "pins": {
            "tang": [{"url": "https://tang1.example.se"}, {"url": "https://tang2.example.se"}]
        },
    }


def test_tang_server_with_thumbprint(script: ModuleType, tmp_path: Path) -> None:
    thp = "O_eN1crpZLpuPVRYFJZVNb3Qgj301mLD9Ekl2hhKDlg"
    path = write_config(tmp_path, tang_servers=[{"url": "https://tang1.example.se", "thp": thp}])
    pins = script.load_config(str(path))["pins"]
    assert pins == [{"url": "https://tang1.example.se", "thp": thp}]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"tang_servers": []}, "tang_servers must be a non-empty list"),
        ({"tang_servers": ["ftp://tang"]}, "is not an http(s) URL"),
        ({"tang_servers": ["https://a.se", "https://a.se"]}, "same URL twice"),
        ({"tang_servers": [{"url": "https://a.se", "thp": "x y"}]}, "not a key thumbprint"),
        ({"threshold": 3}, "threshold must be between 1 and the number of tang_servers (2)"),
        ({"threshold": 0}, "threshold must be between"),
        ({"threshold": True}, "threshold must be an integer"),
        ({"extra": 1}, "unknown configuration keys: extra"),
        ({"volumes": {}}, "volumes must be a list"),
        ({"volumes": [{"name": "data"}]}, "missing keys"),
        (
            {
                "volumes": [
                    {
                        "name": "Data!",
                        "metadata_key": "k",
                        "mountpoint": "/srv/d",
                        "filesystem": "ext4",
                    }
                ]
            },
            "volumes[0].name must match",
        ),
        (
            {
                "volumes": [
                    {
                        "name": "data",
                        "metadata_key": "k",
                        "mountpoint": "srv/d",
                        "filesystem": "ext4",
                    }
                ]
            },
            "mountpoint must be a normalised absolute path",
        ),
        (
            {
                "volumes": [
                    {
                        "name": "data",
                        "metadata_key": "k",
                        "mountpoint": "/srv/../etc",
                        "filesystem": "ext4",
                    }
                ]
            },
            "mountpoint must be a normalised absolute path",
        ),
        (
            {
                "volumes": [
                    {
                        "name": "data",
                        "metadata_key": "k",
                        "mountpoint": "/var",
                        "filesystem": "ext4",
                    }
                ]
            },
            "not a system directory",
        ),
        (
            {
                "volumes": [
                    {
                        "name": "data",
                        "metadata_key": "k",
                        "mountpoint": "/srv/d",
                        "filesystem": "btrfs",
                    }
                ]
            },
            "filesystem must be one of ext4, xfs",
        ),
        (
            {
                "volumes": [
                    {
                        "name": "data",
                        "metadata_key": "a",
                        "mountpoint": "/srv/d",
                        "filesystem": "ext4",
                    },
                    {
                        "name": "data",
                        "metadata_key": "b",
                        "mountpoint": "/srv/e",
                        "filesystem": "ext4",
                    },
                ]
            },
            "duplicate volume name or mountpoint",
        ),
    ],
)
def test_invalid_config_is_refused(
    script: ModuleType, tmp_path: Path, overrides: dict, message: str
) -> None:
    with pytest.raises(script.SetupError) as err:
        script.load_config(str(write_config(tmp_path, **overrides)))
    assert message in str(err.value)


def test_missing_and_malformed_config(script: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(script.SetupError, match="does not exist"):
        script.load_config(str(tmp_path / "nope.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(script.SetupError, match="cannot read configuration file"):
        script.load_config(str(bad))


def test_main_exits_non_zero_on_bad_config(script: ModuleType, tmp_path: Path, capsys) -> None:
    assert script.main(["--config", str(tmp_path / "nope.json")]) == 1
    assert "ERROR: configuration file" in capsys.readouterr().out


def test_no_volumes_is_a_successful_no_op(script: ModuleType, tmp_path: Path, capsys) -> None:
    assert script.main(["--config", str(write_config(tmp_path, volumes=[]))]) == 0
    assert "nothing to do" in capsys.readouterr().out


class _MetadataHandler(http.server.BaseHTTPRequestHandler):
    body = b""
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        if self.path != "/openstack/latest/meta_data.json":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def metadata_service() -> Iterator[str]:
    """A Nova-style metadata service on loopback (stands where 169.254.169.254 would be)."""
    _MetadataHandler.body = json.dumps(
        {"uuid": "i-1", "name": "web-1", "meta": {"ssb_volume_data": VOLUME_ID, "role": "web"}}
    ).encode()
    _MetadataHandler.hits = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _MetadataHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/openstack/latest/meta_data.json"
    server.shutdown()
    server.server_close()


def test_metadata_from_the_metadata_service(script: ModuleType, metadata_service: str) -> None:
    sources = ["/nonexistent/config-drive/meta_data.json", metadata_service]
    meta = script.read_metadata(sources, 5, 0.1)
    assert meta == {"ssb_volume_data": VOLUME_ID, "role": "web"}
    assert script.volume_id_for(meta, "ssb_volume_data") == VOLUME_ID
    assert _MetadataHandler.hits == 1


def test_cloud_init_instance_data_wins_over_the_service(
    script: ModuleType, tmp_path: Path, metadata_service: str
) -> None:
    """cloud-init keeps the datasource's metadata under ds.meta_data (the shape read off a
    booted Debian 12 guest with a config drive); the default source list reads it first."""
    data = tmp_path / "instance-data.json"
    data.write_text(json.dumps({"v1": {"cloud_name": "openstack"}, "ds": {"meta_data": {
        "uuid": "i-1", "meta": {"ssb_volume_data": VOLUME_ID.upper()}}}}))
    meta = script.read_metadata([str(data), metadata_service], 5, 0.1)
    assert script.volume_id_for(meta, "ssb_volume_data") == VOLUME_ID  # normalised to lower case
    assert _MetadataHandler.hits == 0
    assert script.ENV_DEFAULTS["SSB_METADATA_SOURCES"].split(",")[0] == (
        "/run/cloud-init/instance-data.json")


class FakeClock:
    """Time that passes only when the code under test sleeps: a wait's bound is asserted on
    what the code does, not on how fast this machine is."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert len(self.sleeps) < 10_000, "the wait never ends (hang guard)"
        self.sleeps.append(seconds)
        self.now += seconds


def test_metadata_wait_is_bounded(
    script: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no source answering, the wait gives up once its timeout has passed, polling every
    interval: 0.5 s at 0.1 s is at most 6 tries, and no sleep after the deadline."""
    clock = FakeClock()
    monkeypatch.setattr(script, "time", clock)  # the script's own `time`, not the process's
    with pytest.raises(script.SetupError, match=r"no instance metadata source answered within 0\.5 s"):
        script.read_metadata([str(tmp_path / "absent.json"), "http://127.0.0.1:9/x"], 0.5, 0.1)
    assert clock.sleeps and set(clock.sleeps) == {0.1}
    assert 0.5 <= sum(clock.sleeps) < 0.5 + 0.1 + 1e-9


def test_volume_id_must_be_a_uuid(script: ModuleType) -> None:
    with pytest.raises(script.SetupError, match="has no key"):
        script.volume_id_for({}, "ssb_volume_data")
    with pytest.raises(script.SetupError, match="is not a volume ID"):
        script.volume_id_for({"ssb_volume_data": "../../sda"}, "ssb_volume_data")


def test_wait_for_device_follows_the_virtio_serial_link(script: ModuleType, tmp_path: Path) -> None:
    target = tmp_path / "vdb"
    target.write_bytes(b"")
    by_id = tmp_path / "by-id"
    by_id.mkdir()

    def attach_later() -> None:
        time.sleep(0.3)
        (by_id / f"virtio-{VOLUME_ID[:20]}").symlink_to(target)

    threading.Thread(target=attach_later).start()
    assert script.wait_for_device(str(by_id), VOLUME_ID, 5, 0.05) == str(target)

    with pytest.raises(script.SetupError, match=r"did not appear within 0\.2 s"):
        script.wait_for_device(str(by_id), "ffffffff-0000-0000-0000-000000000000", 0.2, 0.05)


def test_tmpfs_detection(script: ModuleType, tmp_path: Path, monkeypatch) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
        "30 27 0:27 / /run rw,nosuid - tmpfs tmpfs rw,mode=755\n"
        "31 30 0:28 / /run/user/0 rw - tmpfs tmpfs rw\n"
        "32 27 0:29 / /srv/data rw - ext4 /dev/mapper/ssb-data rw\n"
    )
    monkeypatch.setenv("SSB_MOUNTINFO", str(mountinfo))
    assert script.filesystem_type_of("/run/safespring-blueprints") == "tmpfs"
    assert script.filesystem_type_of("/runner") == "ext4"
    assert script.filesystem_type_of("/etc") == "ext4"
    assert script.is_mounted("/srv/data")
    assert not script.is_mounted("/srv")


def test_initial_key_is_refused_outside_tmpfs(
    script: ModuleType, tmp_path: Path, monkeypatch
) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n")
    monkeypatch.setenv("SSB_MOUNTINFO", str(mountinfo))
    monkeypatch.setenv("SSB_RUNTIME_DIR", str(tmp_path / "run"))
    with pytest.raises(script.SetupError, match="not tmpfs"):
        script.format_and_bind("/dev/null-never-touched", [{"url": "http://127.0.0.1:9"}], 1)


def test_first_non_zero_reads_every_byte(script: ModuleType, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSB_RUNTIME_DIR", str(tmp_path / "run"))
    size = 256 * 1024 * 1024
    blank = tmp_path / "blank"
    with open(blank, "wb") as handle:
        handle.truncate(size)
    assert script.first_non_zero(str(blank), VOLUME_ID) is None
    # One byte in the first MiB, at the very end, between two sampled windows (the gap a
    # sampling check leaves is size / 1025 bytes) and in the last partial chunk.
    for offset in (1024 * 1024 - 1, size - 1, size // 3 + 1, size - 5 * 1024 * 1024 + 7):
        used = tmp_path / f"used-{offset}"
        with open(used, "wb") as handle:
            handle.truncate(size)
            handle.seek(offset)
            handle.write(b"\x01")
        assert script.first_non_zero(str(used), f"volume-{offset}") == offset


def test_the_proof_goes_on_where_a_stopped_run_left_it(script: ModuleType, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped by the unit's time limit, the next try (same boot) does not start over; the
    record is per volume and size, so another volume never inherits it."""
    monkeypatch.setenv("SSB_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setattr(script, "CHECKPOINT_BYTES", 1024 * 1024)
    size = 256 * 1024 * 1024
    device = tmp_path / "device"
    with open(device, "wb") as handle:
        handle.truncate(size)
    offset = size // 1025 * 20 + 128 * 1024  # between two sampled windows
    script._write_checkpoint(script._checkpoint_path(VOLUME_ID), size, offset + 1024 * 1024)
    with open(device, "r+b") as handle:  # below the record: not read again
        handle.seek(offset)
        handle.write(b"\x01")
    assert script.first_non_zero(str(device), VOLUME_ID) is None
    assert script.first_non_zero(str(device), "another-volume") == offset
    script._write_checkpoint(script._checkpoint_path(VOLUME_ID), 2 * size, size)
    assert script.first_non_zero(str(device), VOLUME_ID) == offset


def test_blkid_that_cannot_open_the_device_is_an_error(script: ModuleType,
                                                       tmp_path: Path) -> None:
    """The real blkid exits 2, as for "nothing found", when it cannot open the device."""
    with pytest.raises(script.SetupError, match="cannot read"):
        script.probe_signature(str(tmp_path / "no-such-device"))
    blank = tmp_path / "blank"
    blank.write_bytes(bytes(1024 * 1024))
    assert script.probe_signature(str(blank)) == {}


def test_missing_tools_are_installed_when_first_boot_could_not(
    script: ModuleType, tmp_path: Path, monkeypatch
) -> None:
    """A package mirror that was down at first boot: the unit installs clevis itself."""
    calls = tmp_path / "apt-get.calls"
    apt = tmp_path / "apt-get"
    apt.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n[ "$1" = update ] || exit "${{APT_EXIT:-0}}"\n')
    apt.chmod(0o755)
    monkeypatch.setenv("SSB_CMD_APT_GET", str(apt))
    monkeypatch.setenv("SSB_CMD_CLEVIS", str(tmp_path / "not-installed" / "clevis"))
    script.ensure_packages(["clevis", "clevis-luks"])
    assert calls.read_text().splitlines() == [
        "update", "install -y --no-install-recommends clevis clevis-luks"]
    monkeypatch.setenv("APT_EXIT", "100")
    with pytest.raises(script.SetupError, match="left untouched"):
        script.ensure_packages(["clevis"])
    with pytest.raises(script.SetupError, match="not installed"):
        script.ensure_packages([])
    monkeypatch.setenv("SSB_CMD_CLEVIS", "clevis")
    calls.unlink()
    script.ensure_packages(["clevis"])  # everything there: apt is not asked
    assert not calls.exists()
