"""The systemd units and timers the blueprint installs, checked by systemd itself.

systemd is not running on the test machines, so `systemd-analyze verify` loads the units from
a temporary root holding exactly what cloud-init would write (plus the distribution's own
units, which the timers' default dependencies refer to). Any warning fails the test.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.guest_backup.backup_harness import config_for, require

UNITS = (
    "ssb-backup.service",
    "ssb-backup.timer",
    "ssb-backup-check.service",
    "ssb-backup-check.timer",
    "ssb-backup-maintain.service",
    "ssb-backup-maintain.timer",
)


def _install(root: Path, schedule: str) -> None:
    config = config_for("ssb-backups-units", ["https://tang.example.se"], schedule=schedule)
    for path, content, mode in config.files:
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
        target.chmod(int(mode, 8))
    system_units = Path("/usr/lib/systemd/system")
    if not (system_units / "sysinit.target").exists():
        pytest.fail(f"{system_units} lacks sysinit.target (apt-get install -y systemd)")
    shutil.copytree(system_units, root / "usr/lib/systemd/system", symlinks=True)


@pytest.mark.parametrize("schedule", ["daily", "hourly"])
def test_units_verify_clean(schedule: str, tmp_path: Path) -> None:
    """Every unit and timer loads without a single warning, and ExecStart is executable."""
    binary = require("systemd-analyze")
    _install(tmp_path, schedule)
    proc = subprocess.run(
        [binary, "verify", f"--root={tmp_path}", "--man=no", *UNITS],
        cwd=tmp_path / "etc/systemd/system", capture_output=True, text=True, timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == "", proc.stdout + proc.stderr


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    """The check above is not vacuous: a typo in a unit is reported."""
    binary = require("systemd-analyze")
    _install(tmp_path, "daily")
    timer = tmp_path / "etc/systemd/system/ssb-backup.timer"
    timer.write_text(timer.read_text().replace("OnCalendar=", "OnCalender="))
    proc = subprocess.run(
        [binary, "verify", f"--root={tmp_path}", "--man=no", "ssb-backup.timer"],
        cwd=timer.parent, capture_output=True, text=True, timeout=60, check=False,
    )
    assert "OnCalender" in proc.stderr, proc.stderr


def test_timers_match_the_schedule_and_the_check_window(tmp_path: Path) -> None:
    """daily: once a day; hourly: every hour. The freshness check runs hourly either way, and
    the maintenance weekly; missed backups run at the next boot (Persistent=true)."""
    daily = {p: c for p, c, _ in config_for("b-daily", ["https://t.example.se"]).files}
    hourly = {p: c for p, c, _ in config_for("b-daily", ["https://t.example.se"],
                                             schedule="hourly").files}
    timer = "/etc/systemd/system/ssb-backup.timer"
    assert "OnCalendar=*-*-* 01:00:00" in daily[timer]
    assert "OnCalendar=*-*-* *:05:00" in hourly[timer]
    for text in (daily[timer], hourly[timer]):
        assert "Persistent=true" in text
    check = daily["/etc/systemd/system/ssb-backup-check.timer"]
    assert "OnCalendar=*-*-* *:45:00" in check
    assert "OnCalendar=Sun" in daily["/etc/systemd/system/ssb-backup-maintain.timer"]
    # Apart from the timer, both schedules install identical files (the rest is data).
    assert {p for p in daily if p != timer} == {p for p in hourly if p != timer}
    data = "/etc/safespring-blueprints/backup/config.json"
    assert all(daily[p] == hourly[p] for p in daily if p not in (timer, data))


def test_guest_config_merges_into_valid_cloud_config(tmp_path: Path) -> None:
    """Through the generator's own merger, the backup part is a cloud-config that cloud-init's
    schema accepts (packages, write_files with modes, runcmd argv lists)."""
    from generator.render.cloudinit import GuestFile, Part, dump, merge

    config = config_for("ssb-backups-cc", ["https://tang.example.se"])
    part = Part(measure="backup-restic", order=50, packages=config.packages,
                files=tuple(GuestFile(*f) for f in config.files), commands=config.commands)
    path = tmp_path / "user-data"
    path.write_text(dump(merge([part])))
    proc = subprocess.run([require("cloud-init"), "schema", "--config-file", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Valid cloud-config" in proc.stdout
