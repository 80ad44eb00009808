"""Each generated file checked by its own daemon's parser: rsyslogd -N1, aide --config-check,
systemd-analyze, and auditctl loading the audit rules into the running kernel.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import ssb_guest
from generator.features.logging.guest import log_client, log_collector
from generator.render.cloudinit import GuestConfig
from tests.guest_logging.harness import file_content, need, run, write_files

CLIENT = log_client("logs.example.se", retention_days=180, intrusion_detection=True)
COLLECTOR = log_collector(retention_days=180)


def _rsyslog_check(conf: Path) -> tuple[int, str]:
    result = run([need("rsyslogd"), "-N1", "-f", str(conf)], timeout=30)
    return result.returncode, result.stdout + result.stderr


def _as_guest(tmp_path: Path, snippet: str) -> Path:
    """The distribution's own /etc/rsyslog.conf with our snippet where rsyslog.d is included."""
    distro = Path("/etc/rsyslog.conf").read_text()
    assert "$IncludeConfig /etc/rsyslog.d/*.conf" in distro
    (tmp_path / "snippet.conf").write_text(snippet)
    main = tmp_path / "rsyslog.conf"
    main.write_text(distro.replace("$IncludeConfig /etc/rsyslog.d/*.conf",
                                   f'include(file="{tmp_path}/snippet.conf")'))
    return main


@pytest.mark.parametrize(
    ("config", "suffix"),
    [
        (CLIENT, "60-safespring-blueprints-forward.conf"),
        (log_client("2001:db8::10", retention_days=1, intrusion_detection=False),
         "60-safespring-blueprints-forward.conf"),
    ],
)
def test_rsyslog_accepts_the_config_as_the_guest_loads_it(
    tmp_path: Path, config: GuestConfig, suffix: str
) -> None:
    snippet = file_content(config, suffix)
    code, out = _rsyslog_check(_as_guest(tmp_path, snippet))
    assert code == 0, out
    assert "error" not in out.lower() and "warning" not in out.lower(), out
    # and on its own, as the brief's "rsyslogd -N1 -f <conf>"
    alone = tmp_path / "alone.conf"
    alone.write_text(snippet)
    code, out = _rsyslog_check(alone)
    assert code == 0, out


def test_rsyslog_accepts_the_collector_config(tmp_path: Path) -> None:
    """The collector's rsyslogd runs on its file alone (ssb-log-collector.service)."""
    config = log_collector(retention_days=1, root=f"{tmp_path}/")
    write_files(config)
    (tmp_path / "var/lib/ssb-log-collector").mkdir(parents=True)  # the unit's StateDirectory=
    code, out = _rsyslog_check(tmp_path / "etc/safespring-blueprints/logging/collector.conf")
    assert code == 0, out
    assert "error" not in out.lower() and "warning" not in out.lower(), out


def test_rsyslog_check_can_fail(tmp_path: Path) -> None:
    """The check above is a real parser: a misspelt TLS parameter is refused."""
    snippet = file_content(CLIENT, "60-safespring-blueprints-forward.conf")
    broken = snippet.replace("StreamDriver.PrioritizeSAN", "StreamDriver.PrioritiseSAN")
    assert broken != snippet
    code, out = _rsyslog_check(_as_guest(tmp_path, broken))
    assert code != 0
    assert "PrioritiseSAN" in out


def test_aide_config_check(tmp_path: Path) -> None:
    conf = tmp_path / "aide.conf"
    conf.write_text(file_content(CLIENT, "safespring-blueprints/aide/aide.conf"))
    result = run([need("aide"), "--config-check", f"--config={conf}"], timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    conf.write_text(conf.read_text().replace("sha512", "sha513"))
    result = run([need("aide"), "--config-check", f"--config={conf}"], timeout=30)
    assert result.returncode != 0  # the check can fail


def _all_units(config: GuestConfig) -> dict[str, str]:
    return {Path(p).name: c for p, c, _ in config.files if "/systemd/system/" in p}


@pytest.mark.parametrize("config", [CLIENT, COLLECTOR], ids=["client", "collector"])
def test_systemd_units_verify_cleanly(tmp_path: Path, config: GuestConfig) -> None:
    units = _all_units(config)
    assert units
    # The collector's listener belongs to ssb-volumes.target, installed with its volume.
    units |= {u: ssb_guest.read(f"units/{u}") for u in ("ssb-volumes.service", "ssb-volumes.target")}
    paths = []
    for name, text in units.items():
        (tmp_path / name).write_text(text)
        paths.append(str(tmp_path / name))
    result = run([need("systemd-analyze"), "verify", "--man=no", *paths], timeout=60)
    # Unknown keys or bad values are only warnings: any output at all fails the test, except
    # for the guest programs the same cloud-init installs (not on this machine).
    shipped = {p for p, _, _ in config.files if p.startswith("/usr/local/sbin/")}
    shipped |= set(ssb_guest.PROGRAMS)
    noise = [ln for ln in (result.stdout + result.stderr).splitlines()
             if "cloud-final.service" not in ln
             and not any(f"Command {p} is not executable" in ln for p in shipped)]
    excused = len(noise) < len((result.stdout + result.stderr).splitlines())
    assert not noise and (result.returncode == 0 or excused), result.stdout + result.stderr


def test_systemd_verify_can_fail(tmp_path: Path) -> None:
    unit = tmp_path / "x.service"
    unit.write_text(_all_units(CLIENT)["ssb-log-retention.service"].replace(
        "ProtectSystem=strict", "ProtectSystem=stricter"))
    result = run([need("systemd-analyze"), "verify", "--man=no", str(unit)], timeout=60)
    assert "stricter" in result.stdout + result.stderr


def test_journald_values_parse_as_systemd_parses_them() -> None:
    journald = file_content(CLIENT, "journald.conf.d/60-safespring-blueprints.conf")
    retention = re.search(r"^MaxRetentionSec=(\S+)$", journald, re.M)
    assert retention
    result = run([need("systemd-analyze"), "timespan", retention.group(1)], timeout=10)
    assert result.returncode == 0, result.stderr
    micros = re.search(r"μs: (\d+)", result.stdout)
    assert micros and int(micros.group(1)) == 180 * 86400 * 10**6
    for timer in ("ssb-log-retention.timer", "ssb-aide-check.timer"):
        calendar = re.search(r"^OnCalendar=(\S+)$", _all_units(CLIENT)[timer], re.M)
        assert calendar
        assert run([need("systemd-analyze"), "calendar", calendar.group(1)]).returncode == 0


# --- audit rules, loaded into the running kernel -----------------------------------------------


def _rule_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@pytest.fixture
def kernel_audit() -> Iterator[str]:
    """The kernel's audit rule list, restored afterwards. Fails if there is no audit subsystem."""
    auditctl = need("auditctl")
    status = run([auditctl, "-s"], timeout=10)
    assert status.returncode == 0, (
        "auditctl cannot reach the kernel audit subsystem (needs root and CAP_AUDIT_CONTROL, "
        f"outside a container): {status.stderr}")
    assert re.search(r"^enabled [01]$", status.stdout, re.M), (
        f"audit rules are immutable on this host (enabled 2):\n{status.stdout}")
    before = run([auditctl, "-l"], timeout=10).stdout
    try:
        yield auditctl
    finally:
        run([auditctl, "-D"], timeout=10)
        saved = [ln for ln in before.splitlines() if ln.startswith(("-a", "-w"))]
        for line in saved:
            run([auditctl, *line.split()], timeout=10)


def test_audit_rules_load_into_the_kernel(tmp_path: Path, kernel_audit: str) -> None:
    """Every rule (all but the final ``-e 2``, which would lock this host until reboot) is
    accepted by the kernel: auditctl -R stops at the first rule it or the kernel refuses."""
    rules = _rule_lines(file_content(CLIENT, "audit/rules.d/60-safespring-blueprints.rules"))
    assert rules[-1] == "-e 2"
    body = rules[:-1]
    path = tmp_path / "rules"
    path.write_text("-D\n" + "\n".join(body) + "\n")
    result = run([kernel_audit, "-R", str(path)], timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    listed = [ln for ln in run([kernel_audit, "-l"], timeout=10).stdout.splitlines()
              if ln.startswith(("-a", "-w"))]
    assert len(listed) == len(body)
    keys = {m.group(1) for ln in listed for m in [re.search(r"(?:-k|key=)\s*(\S+)", ln)] if m}
    assert {"identity", "sudoers", "sshd", "privileged", "privilege-escalation", "modules",
            "time-change", "logins", "session", "audit-log", "audit-config",
            "audit-tools"} <= keys


def test_audit_rule_check_can_fail(tmp_path: Path, kernel_audit: str) -> None:
    path = tmp_path / "rules"
    path.write_text("-a always,exit -F arch=b64 -S not_a_syscall -k x\n")
    assert run([kernel_audit, "-R", str(path)], timeout=30).returncode != 0
    path.write_text("-w /etc/passwd -p rwz -k x\n")
    assert run([kernel_audit, "-R", str(path)], timeout=30).returncode != 0


def test_written_files_have_the_given_modes(tmp_path: Path) -> None:
    config = log_collector(retention_days=5, root=f"{tmp_path}/")
    write_files(config)
    script = tmp_path / "usr/local/sbin/ssb-log-pki"
    assert script.stat().st_mode & 0o777 == 0o755
