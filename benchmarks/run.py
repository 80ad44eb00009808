"""Benchmarks, one command: `python benchmarks/run.py [--runs N]` prints a table of medians.

Every comparison is measured in the same run on the same machine, so ratios are meaningful
even when absolute times wander (this machine has 2 shared cores):
- `generate` of the example, in-process and as a CLI process, next to Python's own start-up;
- offline `validate` (fmt + scratch copy + init + validate) next to plain `terraform validate`
  of the same directory (already initialised, same provider mirror);
- in-process `scan` next to the `checkov -d` CLI on the same blueprint.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import api, scan  # noqa: E402
from generator.terraform import offline  # noqa: E402
from generator.terraform import run as tf  # noqa: E402

SPEC = ROOT / "blueprints" / "patient-portal.yaml"
BLUEPRINT = ROOT / "blueprints" / "patient-portal"
TODAY = dt.date(2026, 11, 27)


def median_time(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median, spread) of `runs` timings in seconds; one warm-up run first."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times) - min(times)


def run_quiet(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{args[:3]} exited {proc.returncode}: {proc.stderr[-500:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    python = sys.executable
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1795000000", "PYTHONPATH": str(ROOT)}
    rows: list[tuple[str, float, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bp"
        floor = median_time(lambda: run_quiet([python, "-c", "pass"]), runs)
        rows.append(("python start-up (floor)", *floor, ""))
        inproc = median_time(lambda: api.files_for(SPEC, TODAY), runs)
        rows.append(("generate example, in-process (render only)", *inproc, ""))
        cli = median_time(lambda: run_quiet([python, "-m", "generator", "generate", str(SPEC),
                                             "-o", str(out), "--force"], env=env), runs)
        rows.append(("generate example, CLI", *cli, f"{cli[0] / floor[0]:.1f}x python start-up"))

        toolchain = offline.prepare()
        tf_env = tf.base_env(toolchain.env)
        ours = median_time(lambda: api.validate(BLUEPRINT, offline=True), runs)
        rows.append(("validate --offline (fmt+copy+init+validate)", *ours, ""))
        plain_dir = Path(tmp) / "plain"
        with tf.scratch_copy(BLUEPRINT) as copy:
            shutil.copytree(copy.parent, plain_dir)
        plain_root = plain_dir / BLUEPRINT.name
        assert tf.init(plain_root, tf_env, backend=False).ok
        plain = median_time(lambda: run_quiet(["terraform", f"-chdir={plain_root}", "validate"],
                                              env=tf_env), runs)
        rows.append(("plain terraform validate (initialised)", *plain,
                     f"ours is {ours[0] / plain[0]:.2f}x"))

        scan.scan(BLUEPRINT)  # pays Checkov's import once, as a long-running process would
        inscan = median_time(lambda: scan.scan(BLUEPRINT), runs)
        rows.append(("scan, in-process (after import)", *inscan, ""))
        checkov = shutil.which("checkov") or str(Path(python).parent / "checkov")
        cli_scan = median_time(lambda: run_quiet([checkov, "-d", str(BLUEPRINT), "--quiet",
                                                  "--skip-download", "--framework", "terraform",
                                                  "--external-checks-dir",
                                                  str(ROOT / "generator" / "policies")],
                                                 env=env), max(2, runs // 2))
        rows.append(("checkov -d CLI, same blueprint and pack", *cli_scan,
                     f"in-process is {cli_scan[0] / inscan[0]:.1f}x faster"))
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark'.ljust(width)}  median s  spread s  note")
    for name, med, spread, note in rows:
        print(f"{name.ljust(width)}  {med:8.3f}  {spread:8.3f}  {note}")
    print(f"\n{runs} runs each (checkov CLI: {max(2, runs // 2)}); {os.cpu_count()} cores; "
          f"python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
