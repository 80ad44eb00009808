"""Helpers for the logging tests: write generated files, run real daemons, bounded waits.

Every daemon listens on 127.0.0.1 only, runs as its own process, and is always stopped.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from generator.render.cloudinit import GuestConfig

# Hang guards, not speed claims: rsyslogd listens and stops in well under a second here; the
# bounds only end a run that hangs, with room for a machine that also boots VMs beside it.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def need(tool: str) -> str:
    """The path of a required tool; a missing tool fails the test loudly (never a skip)."""
    path = shutil.which(tool, path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    assert path, f"{tool} is not installed: apt-get install -y the package that provides it"
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_files(config: GuestConfig) -> None:
    """Write the generated files as cloud-init's write_files would (given mode)."""
    for path, content, mode in config.files:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
        p.chmod(int(mode, 8))


def file_content(config: GuestConfig, suffix: str) -> str:
    """The content of the one generated file whose path ends with ``suffix``."""
    hits = [c for p, c, _ in config.files if p.endswith(suffix)]
    assert len(hits) == 1, f"expected one file ending in {suffix}, got {len(hits)}"
    return hits[0]


def unit_lines(unit: str, key: str) -> list[list[str]]:
    """argv lists of every ``key=`` line of a unit (no shell: systemd splits like shlex here)."""
    return [shlex.split(line.split("=", 1)[1]) for line in unit.splitlines()
            if line.startswith(f"{key}=")]


def wait_for(check: Callable[[], bool], timeout: float, step: float = 0.1) -> float:
    """Poll until ``check()`` is true; the seconds it took, or AssertionError after ``timeout``."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"condition not met within {timeout:.0f} s")
        time.sleep(step)


def run(argv: list[str] | tuple[str, ...], timeout: float = 60.0,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command; ssb-log-pki never restarts a service of the test machine (PKI_ENV)."""
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **PKI_ENV, **(env or {})})


@dataclass
class Rsyslogd:
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _start(main_conf: Path, listen_port: int | None, log: Path) -> Rsyslogd:
    binary = need("rsyslogd")
    with log.open("ab") as out:
        proc = subprocess.Popen([binary, "-n", "-iNONE", "-f", str(main_conf)],
                                stdout=out, stderr=subprocess.STDOUT)
    daemon = Rsyslogd(proc, log)
    try:
        if listen_port is not None:
            def listening() -> bool:
                assert proc.poll() is None, f"rsyslogd exited:\n{daemon.output()}"
                try:
                    socket.create_connection(("127.0.0.1", listen_port), timeout=0.5).close()
                    return True
                except OSError:
                    return False
            wait_for(listening, START_TIMEOUT)
        else:
            time.sleep(0.3)
            assert proc.poll() is None, f"rsyslogd exited:\n{daemon.output()}"
    except BaseException:
        _stop(daemon)
        raise
    return daemon


def _stop(daemon: Rsyslogd) -> None:
    daemon.proc.terminate()
    try:
        daemon.proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        daemon.proc.kill()
        daemon.proc.wait(timeout=STOP_TIMEOUT)


@contextmanager
def rsyslogd(main_conf: Path, *, listen_port: int | None = None) -> Iterator[Rsyslogd]:
    """The real rsyslogd in the foreground on ``main_conf``; waits for its TLS port if given."""
    log = main_conf.with_suffix(".out")
    log.write_bytes(b"")
    daemon = _start(main_conf, listen_port, log)
    try:
        yield daemon
    finally:
        _stop(daemon)


class Listener:
    """The collector's rsyslogd as ssb-log-collector.service runs it, restartable: what
    `systemctl try-restart` does in the guest when ssb-log-pki changed the trust list (the
    tests run ssb-log-pki with SSB_LOG_PKI_NO_RESTART=1 and restart it here)."""

    def __init__(self, main_conf: Path, listen_port: int) -> None:
        self.main_conf, self.port = main_conf, listen_port
        self.log = main_conf.with_suffix(".out")
        self.log.write_bytes(b"")
        self.daemon = _start(main_conf, listen_port, self.log)

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        return self.daemon.proc

    def output(self) -> str:
        return self.daemon.output()

    def restart(self) -> None:
        _stop(self.daemon)
        self.daemon = _start(self.main_conf, self.port, self.log)

    def close(self) -> None:
        _stop(self.daemon)


PKI_ENV = {"SSB_LOG_PKI_NO_RESTART": "1"}


def logger(socket_path: Path, tag: str, message: str) -> None:
    """Send one message to a test imuxsock socket with util-linux logger."""
    result = run([need("logger"), "--socket-errors=on", "-u", str(socket_path), "-t", tag,
                  message], timeout=10)
    assert result.returncode == 0, result.stderr


def remote_text(root: Path) -> str:
    """Everything the collector has written under its remote log directory."""
    base = root / "var/log/remote"
    if not base.exists():
        return ""
    return "".join(p.read_text(errors="replace") for p in sorted(base.rglob("*.log")))
