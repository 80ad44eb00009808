"""backup_config(): pure, deterministic, strict; spec values only in the JSON data file.

Also the static script's own pure parts: its config re-validation, its SigV4 signing
(cross-checked against botocore's implementation) and its timestamp parsing.
"""

from __future__ import annotations

import datetime as dt
import importlib.machinery
import importlib.util
import json
import os
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from generator.features import backup
from generator.features.backup import (
    CONFIG,
    backup_config,
    endpoint_for,
    restore_instructions,
)
from generator.render.cloudinit import GuestConfig

SCRIPT = Path(backup.__file__).resolve().parents[2] / "ssb_guest" / "backup.py"

GOOD: dict[str, Any] = {
    "endpoint": "https://s3.sto2.safedc.net",
    "bucket": "zz-sentinel-bucket",
    "schedule": "daily",
    "keep": {"daily": 7, "weekly": 4, "monthly": 12},
    "paths": ["/srv/sentinelvol", "/var/lib/sentineldb"],
    "tang_servers": ["https://tang-sentinel.example.se", "http://tang2-sentinel.example.se:7500"],
    "threshold": 2,
}


def _config(**changes: Any) -> GuestConfig:
    return backup_config(**{**GOOD, **changes})


@pytest.fixture(scope="module")
def script() -> ModuleType:
    """The guest script imported as a module (it has no .py suffix, being an installed tool)."""
    loader = importlib.machinery.SourceFileLoader("ssb_backup_script", str(SCRIPT))
    spec = importlib.util.spec_from_loader("ssb_backup_script", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_deterministic_and_data_file_holds_the_spec() -> None:
    first, second = _config(), _config()
    assert first == second
    files = {path: (content, mode) for path, content, mode in first.files}
    data = json.loads(files[CONFIG][0])
    assert data == {
        "version": 1,
        "endpoint": GOOD["endpoint"],
        "bucket": GOOD["bucket"],
        "schedule": "daily",
        "keep": GOOD["keep"],
        "paths": GOOD["paths"],
        "system_paths": ["/etc"],
        "tang_servers": GOOD["tang_servers"],
        "threshold": 2,
    }
    assert files[CONFIG][1] == "0644"  # no secret in it: the keys live only as Clevis JWEs


def test_no_spec_value_reaches_a_script_or_unit() -> None:
    """Scripts and units are static: sentinel values appear only in the data file."""
    for path, content, _ in _config().files:
        if path == CONFIG:
            continue
        for value in ("sentinel", "safedc", "zz-", "threshold\": 2"):
            assert value not in content, f"{value!r} leaked into {path}"


def test_files_modes_packages_commands_measures() -> None:
    config = _config()
    modes = {path: mode for path, _, mode in config.files}
    for tool in ("ssb-backup", "ssb-backup-check", "ssb-backup-credentials", "ssb-restore"):
        assert modes[f"/usr/local/sbin/{tool}"] == "0755"
    assert modes["/etc/systemd/system/ssb-backup.timer"] == "0644"
    assert [p for p, _, _ in config.files] == sorted(p for p, _, _ in config.files)
    assert {"restic", "clevis"} <= set(config.packages)
    assert config.commands[0] == ("systemctl", "daemon-reload")
    assert config.commands[1] == ("/usr/local/sbin/ssb-backup", "init-key")
    assert config.commands[2][:3] == ("systemctl", "enable", "--now")
    assert all(isinstance(a, str) for c in config.commands for a in c)
    assert {"backup-restic", "backup-cross-site"} <= set(config.measures)


BAD = [
    ({"endpoint": "http://s3.sto2.safedc.net"}, "https"),
    ({"endpoint": "https://s3.sto2.safedc.net/path"}, "https"),
    ({"endpoint": "https://s3.sto2.safedc.net\nx"}, "https"),
    ({"bucket": "Bad_Bucket"}, "bucket"),
    ({"bucket": "ab"}, "bucket"),
    ({"schedule": "weekly"}, "schedule"),
    ({"keep": {"yearly": 1}}, "keep"),
    ({"keep": {"daily": -1}}, "keep.daily"),
    ({"keep": {"daily": True}}, "keep.daily"),
    ({"keep": {"daily": 0, "weekly": 0}}, "at least one"),
    ({"paths": []}, "paths"),
    ({"paths": "/srv/data"}, "paths"),
    ({"paths": ["/etc"]}, "mountpoint"),
    ({"paths": ["/"]}, "mountpoint"),
    ({"paths": ["/srv/data/../../etc"]}, "mountpoint"),
    ({"paths": ["/srv/da ta"]}, "mountpoint"),
    ({"paths": ["/srv/data", "/srv/data"]}, "duplicates"),
    ({"tang_servers": []}, "tang_servers"),
    ({"tang_servers": ["ftp://tang.example.se"]}, "tang server"),
    ({"tang_servers": ["https://tang.example.se/adv"]}, "tang server"),
    ({"tang_servers": ["https://a.example.se", "https://a.example.se"]}, "duplicates"),
    ({"threshold": 3}, "threshold"),
    ({"threshold": 0}, "threshold"),
    ({"threshold": True}, "threshold"),
    ({"source_site": "sto2"}, "another site"),
]


@pytest.mark.parametrize(("changes", "fragment"), BAD)
def test_bad_inputs_raise_value_error(changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match=None) as excinfo:
        _config(**changes)
    assert fragment in str(excinfo.value)


def test_cross_site_is_accepted_and_endpoint_for_validates() -> None:
    assert _config(source_site="sto1").measures
    assert endpoint_for("osl2") == "https://s3.osl2.safedc.net"
    with pytest.raises(ValueError):
        endpoint_for("sto1.evil.example")


def test_restore_instructions_name_bucket_endpoint_and_the_new_instance_path() -> None:
    text = restore_instructions(endpoint="https://s3.sto2.safedc.net", bucket="pp-backups",
                                backup_site="sto2")
    assert text.startswith("## Backups and restore")
    for needle in ("pp-backups", "https://s3.sto2.safedc.net", "ssb-backup-credentials",
                   "ssb-restore --from-host OLD-HOSTNAME", "adopt-key", "Tang",
                   "pp-backups/OLD-HOSTNAME.restic-password.jwe", "delete markers"):
        assert needle in text, needle
    with pytest.raises(ValueError):
        restore_instructions(endpoint="https://x.example.se", bucket="Bad Bucket")


def test_script_refuses_a_tampered_config(tmp_path: Path) -> None:
    """The guest script re-validates its data file and fails before touching anything."""
    files = {p: c for p, c, _ in _config().files}
    data = json.loads(files[CONFIG])
    for change, fragment in (
        ({"endpoint": "http://s3.sto2.safedc.net"}, "must be an https URL"),
        ({"threshold": 5}, "threshold must be between 1 and 2"),
        ({"paths": ["/srv/x;rm -rf /"]}, "not a plain absolute path"),
        ({"keep": {"daily": 0}}, "at least one"),
        ({"extra": 1}, "unknown keys"),
    ):
        path = tmp_path / "config.json"
        path.write_text(json.dumps({**data, **change}))
        proc = subprocess.run(["/usr/bin/python3", str(SCRIPT), "--config", str(path), "init-key"],
                              capture_output=True, text=True, timeout=30, check=False)
        assert proc.returncode == 1, proc.stderr
        assert fragment in proc.stderr, proc.stderr
    assert not (tmp_path / "restic-password.jwe").exists()


def test_the_s3_client_is_botocore_and_ignores_the_operators_aws_settings(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """botocore signs and retries; an AWS_PROFILE, an ~/.aws/config or an AWS_ENDPOINT_URL of
    the session that runs `sudo ssb-restore` changes neither the endpoint nor the addressing."""
    aws_config = tmp_path / "aws-config"
    aws_config.write_text("[profile other]\ns3 =\n    addressing_style = virtual\n")
    monkeypatch.setenv("AWS_PROFILE", "other")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://elsewhere.example")
    client = script.S3("https://s3.sto2.safedc.net", "pp-backups", "AKIDEXAMPLE",
                       "s3cr3t/Key+x").client
    assert type(client).__module__.startswith("botocore")
    assert client.meta.endpoint_url == "https://s3.sto2.safedc.net"
    assert client.meta.config.s3 == {"addressing_style": "path"}
    assert client.meta.config.retries == {"mode": "standard",
                                          "total_max_attempts": script.S3_RETRIES + 1}
    assert client.meta.region_name == "us-east-1"
    assert os.environ["AWS_PROFILE"] == "other"  # the process's environment is left as it was
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": "pp-backups", "Key": "app-1.restic-password.jwe"})
    assert url.startswith("https://s3.sto2.safedc.net/pp-backups/app-1.restic-password.jwe?")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url and "%2Fus-east-1%2Fs3%2F" in url


def test_restic_timestamps_parse(script: ModuleType) -> None:
    parse = script.parse_time
    assert parse("2026-11-27T06:38:01.123456789+01:00") == dt.datetime(
        2026, 11, 27, 5, 38, 1, 123456, tzinfo=dt.UTC)
    assert parse("2026-11-27T06:38:01Z").tzinfo is not None
    with pytest.raises(script.BackupError):
        parse("yesterday")
