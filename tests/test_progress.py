"""Long commands say what they are doing while they do it, not all at the end.

Proven without a clock: a `terraform` on PATH in front of the real one holds `terraform plan`
until the test opens a gate, and the test opens it only after it has read the lines announcing
the plan. Were the lines written at the end (buffered, or collected and printed on exit), they
could not arrive while the plan is held, and the test would stop at its hang guard.
"""

from __future__ import annotations

import errno
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import ROOT, TODAY_EPOCH

# Hang guard only: a whole `check` of the minimal example takes well under a minute here; this
# bound exists so a regression that stops streaming fails the test instead of blocking CI.
HANG_GUARD_S = 600.0

# Runs the real Terraform for every command but `plan`, which first waits for one line on the
# gate (a FIFO that only the test writes to). Terraform's options (-chdir=...) come before the
# subcommand, so the subcommand is the first argument that is not an option.
SHIM = """#!/usr/bin/env bash
for arg in "$@"; do
  case $arg in -*) continue ;; esac
  if [ "$arg" = plan ]; then
    : > "$SSB_TEST_PLAN_WAITING"
    read -r _ < "$SSB_TEST_PLAN_GATE"
  fi
  break
done
exec "$SSB_TEST_REAL_TERRAFORM" "$@"
"""

EXPECTED = ["generate ...", r"\[ +ok\] generate \(", r"validate \+ plan \(offline\) \.\.\.",
            "  offline toolchain ...", "  offline toolchain: ok", "  fmt ...", "  fmt: ok",
            "  init ...", "  init: ok", "  validate ...", "  validate: ok", "  plan ...",
            "  plan: ok", r"\[ +ok\] validate \+ plan \(offline\) \(", "scan ...",
            r"\[ *(ok|FAILED)\] scan \(plan\) \(", "report ...",
            r"\[ *(ok|FAILED)\] report \(", "(PASSED|FAILED): "]


def _in_order(lines: list[str], patterns: list[str]) -> list[int]:
    """The index of each pattern's first match after the previous one's; fails naming the gap."""
    at: list[int] = []
    for pattern in patterns:
        start = at[-1] + 1 if at else 0
        index = next((i for i in range(start, len(lines)) if re.match(pattern, lines[i])), None)
        assert index is not None, f"{pattern!r} missing or out of order in:\n" + "\n".join(lines)
        at.append(index)
    return at


def _open_when_read(gate: Path, proc: subprocess.Popen[str]) -> int:
    """The gate opened for writing once a reader holds it (a FIFO refuses a non-blocking
    writer until then); fails if the command ends first or the hang guard passes."""
    deadline = time.monotonic() + HANG_GUARD_S
    while True:
        try:
            return os.open(gate, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
        assert proc.poll() is None, "check ended without running terraform plan"
        assert time.monotonic() < deadline, "terraform plan never reached the gate (hang guard)"
        time.sleep(0.05)


def test_check_prints_each_step_as_it_starts_and_ends(tmp_path: Path) -> None:
    """`check` of the minimal example, read line by line as it runs: each step and each
    Terraform step of validate and plan is announced when it starts and reported when it
    ends, and the announcements reach the reader while the plan is provably still running."""
    real = shutil.which("terraform")
    assert real, "terraform is not on PATH"
    shim_dir = tmp_path / "bin"
    shim_dir.mkdir()
    shim = shim_dir / "terraform"
    shim.write_text(SHIM)
    shim.chmod(0o755)
    gate, waiting = tmp_path / "plan-gate", tmp_path / "plan-waiting"
    os.mkfifo(gate)
    env = {**os.environ, "SOURCE_DATE_EPOCH": TODAY_EPOCH, "PYTHONUNBUFFERED": "1",
           "PATH": f"{shim_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "SSB_TEST_REAL_TERRAFORM": real, "SSB_TEST_PLAN_GATE": str(gate),
           "SSB_TEST_PLAN_WAITING": str(waiting)}
    env.pop("SAFESPRING_BLUEPRINTS_DEBUG", None)
    workdir = tmp_path / "work"
    workdir.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "check", str(ROOT / "blueprints" / "minimal.yaml"),
         "--report-dir", str(tmp_path / "report")],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    assert proc.stderr is not None
    arrived: queue.Queue[str | None] = queue.Queue()

    def read(stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            arrived.put(line.rstrip("\n"))
        arrived.put(None)

    threading.Thread(target=read, args=(proc.stderr,), daemon=True).start()
    lines: list[str] = []

    def next_line() -> str | None:
        try:
            return arrived.get(timeout=HANG_GUARD_S)
        except queue.Empty:
            raise AssertionError("no line arrived while terraform plan was held at the gate "
                                 "(progress not streamed?); so far:\n" + "\n".join(lines)) from None

    try:
        # Read up to the announcement of the plan; Terraform's plan is held at the gate.
        while not (lines and lines[-1] == "  plan ..."):
            line = next_line()
            assert line is not None, "check ended before announcing the plan:\n" + "\n".join(lines)
            lines.append(line)
        held = list(lines)
        assert proc.poll() is None
        # Announced before it ran: the shim may not have reached the gate yet, so the test
        # waits until it is there (reading the gate) before releasing it.
        release = _open_when_read(gate, proc)
        assert waiting.exists(), "terraform plan was not the command held at the gate"
        os.write(release, b"go\n")
        os.close(release)
        while (line := next_line()) is not None:
            lines.append(line)
        assert proc.wait(timeout=HANG_GUARD_S) in (0, 1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    # The outer step and each Terraform step before the plan had started and ended, and been
    # read, while the plan was held; nothing of the plan's end or later had been printed.
    at_held = _in_order(held, EXPECTED[:EXPECTED.index("  plan ...") + 1])
    assert at_held[-1] == len(held) - 1
    _in_order(lines, EXPECTED)
