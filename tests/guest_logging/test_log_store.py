"""ssb-log-store on a real (small tmpfs) file system: the free-space alert and the size rule.

The generated units' own commands are run; only the console (/dev/kmsg) and the login
message (/run/motd.d) are redirected into the test's directory.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.features.logging.guest import ALERT_PERCENT, SIZE_RETENTION_PERCENT, log_collector
from tests.guest_logging.harness import file_content, need, run, unit_lines, write_files

MIB = 1024 * 1024


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Path]:
    """A collector's files under tmp_path, its log volume a 20 MiB tmpfs."""
    write_files(log_collector(retention_days=30, root=f"{tmp_path}/"))
    remote = tmp_path / "var/log/remote"
    remote.mkdir(parents=True)
    subprocess.run([need("mount"), "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(remote)],
                   check=True)
    try:
        yield tmp_path
    finally:
        subprocess.run(["umount", "-l", str(remote)], check=False)


def _fill(path: Path, mib: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(int(mib * MIB)))


def _used(path: Path) -> float:
    st = os.statvfs(path)
    return 100 * (st.f_blocks - st.f_bavail) / st.f_blocks


def _command(root: Path, unit: str) -> list[str]:
    config = log_collector(retention_days=30, root=f"{root}/")
    (argv,) = unit_lines(file_content(config, unit), "ExecStart")
    return argv


def test_free_space_alert_reaches_the_console_and_the_login(collector: Path) -> None:
    console, motd = collector / "kmsg", collector / "run/motd.d/ssb-log-collector"
    env = {**os.environ, "SSB_LOG_STORE_CONSOLE": str(console), "SSB_LOG_STORE_MOTD": str(motd),
           "JOURNAL_STREAM": "8:1"}
    argv = _command(collector, "ssb-log-space.service")
    remote = collector / "var/log/remote"
    _fill(remote / "10.0.0.5/2026-11-27.log", 4)
    quiet = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    assert quiet.returncode == 0, quiet.stderr
    assert not motd.exists() and not console.exists()

    _fill(remote / "10.0.0.9/2026-11-27.log", 13)
    assert _used(remote) >= ALERT_PERCENT
    alert = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    assert alert.returncode == 1  # the unit fails: `systemctl --failed` shows it too
    assert alert.stderr.startswith("<1>ssb-log-store: ALERT: the log collector's volume")
    assert console.read_text().startswith("<1>ssb-log-store: ALERT:")  # the console log
    assert "grow the volume" in motd.read_text()  # the login message

    (remote / "10.0.0.9/2026-11-27.log").unlink()
    assert subprocess.run(argv, env=env, capture_output=True, timeout=30).returncode == 0
    assert not motd.exists(), "the login message goes when the volume has room again"


def test_size_rule_deletes_the_oldest_days_never_the_last_two(collector: Path) -> None:
    """Over the limit, the oldest day files go first; today's and yesterday's never do: then
    the volume fills, and the clients queue (test_logging_back_pressure)."""
    argv = _command(collector, "ssb-log-remote-retention.service")
    remote = collector / "var/log/remote"
    today = dt.date.today()
    days = [(today - dt.timedelta(days=n)).isoformat() for n in (5, 4, 3, 1, 0)]
    for n, day in enumerate(days):
        _fill(remote / f"10.0.0.{5 + n % 2}/{day}.log", 3.7)
    assert _used(remote) > SIZE_RETENTION_PERCENT
    result = run(argv, timeout=30)
    assert result.returncode == 0, result.stderr
    left = sorted(p.name for p in remote.rglob("*.log"))
    assert left == sorted(f"{d}.log" for d in days[1:]), "only the oldest went"
    assert _used(remote) <= SIZE_RETENTION_PERCENT

    # Mostly yesterday's and today's logs: the older days go, those two stay, over the limit.
    for path in remote.rglob("*.log"):
        path.unlink()
    for day, mib in zip(days[1:], (0.5, 0.5, 9, 9.5), strict=True):
        _fill(remote / f"10.0.0.7/{day}.log", mib)
    assert run(argv, timeout=30).returncode == 0
    left = sorted(p.name for p in remote.rglob("*.log"))
    assert left == [f"{days[3]}.log", f"{days[4]}.log"]
    assert _used(remote) > SIZE_RETENTION_PERCENT  # still over: the alert's turn
