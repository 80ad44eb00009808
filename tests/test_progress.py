"""Long commands say what they are doing while they do it, not all at the end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT, TODAY_EPOCH


def test_check_prints_each_step_as_it_starts_and_ends(tmp_path: Path) -> None:
    """`check` of the minimal example, read line by line as it runs: each step and each
    Terraform step of validate and plan is announced when it starts and reported when it
    ends."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": TODAY_EPOCH, "PYTHONUNBUFFERED": "1"}
    env.pop("SAFESPRING_BLUEPRINTS_DEBUG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "generator", "check", str(ROOT / "blueprints" / "minimal.yaml"),
         "--report-dir", str(tmp_path / "report")],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    arrived: list[tuple[float, str]] = []
    for line in proc.stderr:
        arrived.append((time.monotonic(), line.rstrip("\n")))
    assert proc.wait(timeout=600) in (0, 1)
    lines = [line for _, line in arrived]
    expected = ["generate ...", r"\[ +ok\] generate \(", r"validate \+ plan \(offline\) \.\.\.",
                "  offline toolchain ...", "  offline toolchain: ok", "  fmt ...", "  fmt: ok",
                "  init ...", "  init: ok", "  validate ...", "  validate: ok", "  plan ...",
                "  plan: ok", r"\[ +ok\] validate \+ plan \(offline\) \(", "scan ...",
                r"\[ *(ok|FAILED)\] scan \(plan\) \(", "report ...",
                r"\[ *(ok|FAILED)\] report \(", "(PASSED|FAILED): "]
    at = []
    for pattern in expected:
        start = at[-1] + 1 if at else 0
        index = next((i for i in range(start, len(lines)) if re.match(pattern, lines[i])), None)
        assert index is not None, f"{pattern!r} missing or out of order in:\n" + "\n".join(lines)
        at.append(index)
    # Streamed, not printed at the end: the scan (Checkov's import alone) takes seconds
    # between its two lines.
    scan_started = arrived[at[expected.index("scan ...")]][0]
    scan_ended = arrived[at[expected.index(r"\[ *(ok|FAILED)\] scan \(plan\) \(")]][0]
    assert scan_ended - scan_started > 1.0
