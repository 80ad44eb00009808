"""Where the time of an HCL scan goes, phase by phase, next to the `checkov -d` CLI's start-up.

Each run is a fresh process, as a user's `safespring-blueprints scan DIR` is. It times, with the
pack's own code path (generator/scan.py):

- `start`: from the parent's spawn to the package imported (interpreter start-up included);
- `built-in checks`: importing the built-in checks of the resource types in the directory
  (generator/checkov_load.py), the one part of Checkov the pack chooses;
- `runner`: importing Checkov's Terraform runner (parser, graph, renderer, report);
- `parse`: Checkov's HCL parse of every file;
- `graph`: Checkov's graph build, variable rendering and for_each expansion;
- `checks`: Checkov running the checks on the rendered blocks;
- `rest`: the rest of Checkov's run and the pack's findings.

`parse`, `graph` and `checks` are work `checkov -d` does as well, on the same files; the CLI's own
import (`import checkov.main`, all of its checks and frameworks) is measured beside them. Run
alone: `python benchmarks/scan_breakdown.py [DIR] [--runs N]`; `benchmarks/run.py --only
breakdown` prints it too. The timers wrap Checkov's methods in the measured process only.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from timing import directory_arguments

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

PHASES = ("start", "built-in checks", "runner", "parse", "graph", "checks", "rest")
SHARED = ("parse", "graph", "checks")  # what checkov -d does too

# Runs in the measured process: the pack's scan path, with a timer around each phase.
_PROBE = r"""
import json, sys, time
t0, spawned = time.perf_counter(), float(sys.argv[2])
began_at = time.time()
from pathlib import Path
from generator import checkov_load
from generator.scan import POLICIES_DIR, _result, _runner_filter
root = Path(sys.argv[1]).resolve()
marks = {"start": began_at - spawned + time.perf_counter() - t0}
t = time.perf_counter()
checkov_load.load(checkov_load.types_in_directory(root))
marks["built-in checks"] = time.perf_counter() - t
t = time.perf_counter()
from checkov.terraform import runner as tf_runner
from checkov.terraform import tf_parser
from checkov.terraform.graph_builder import local_graph
marks["runner"] = time.perf_counter() - t
def timed(owner, name, phase):
    inner = getattr(owner, name)
    def wrapper(*args, **kwargs):
        began = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            marks[phase] = marks.get(phase, 0.0) + time.perf_counter() - began
    setattr(owner, name, wrapper)
timed(tf_parser.TFParser, "parse_hcl_module", "parse")
timed(local_graph.TerraformLocalGraph, "build_graph", "graph")
timed(tf_runner.Runner, "check_tf_definition", "checks")
t = time.perf_counter()
report = tf_runner.Runner().run(root_folder=str(root), external_checks_dir=[str(POLICIES_DIR)],
                                runner_filter=_runner_filter("terraform"))
result = _result(root, report[0] if isinstance(report, list) else report, "hcl")
marks["rest"] = time.perf_counter() - t - sum(marks.get(p, 0.0) for p in ("parse", "graph", "checks"))
marks["findings"] = len(result.findings)
print(json.dumps(marks))
"""


def breakdown(directory: Path, runs: int = 3, python: str = sys.executable) -> dict[str, float]:
    """Median seconds per phase of an HCL scan of `directory`, and of `import checkov.main`."""
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        out = subprocess.run([python, "-c", _PROBE, str(directory), repr(time.time())],
                             capture_output=True, text=True, check=True, cwd=ROOT)
        for phase, seconds in json.loads(out.stdout.strip().splitlines()[-1]).items():
            samples.setdefault(phase, []).append(seconds)
    cli = []
    for _ in range(runs):
        out = subprocess.run([python, "-c", "import time; t = time.perf_counter(); import checkov.main; "
                              "print(time.perf_counter() - t)"], capture_output=True, text=True, check=True)
        cli.append(float(out.stdout.strip().splitlines()[-1]))
    medians = {phase: statistics.median(values) for phase, values in samples.items()}
    medians["checkov -d import"] = statistics.median(cli)
    return medians


def lines(medians: dict[str, float]) -> list[tuple[str, float, str]]:
    """(name, median seconds, note) rows for benchmarks/run.py's table."""
    total = sum(medians[p] for p in PHASES)
    shared = sum(medians[p] for p in SHARED)
    rows = [("HCL scan, sum of phases", total,
             f"{int(medians['findings'])} findings; parse + graph + checks {shared:.2f} s, which "
             f"checkov -d does too")]
    rows += [(f"  scan: {phase}", medians[phase], "shared with checkov -d" if phase in SHARED else "")
             for phase in PHASES]
    rows.append(("  checkov -d: import checkov.main", medians["checkov -d import"],
                 "its own start-up, beside the pack's built-in checks + runner "
                 f"({medians['built-in checks'] + medians['runner']:.2f} s)"))
    return rows


def main() -> int:
    options = directory_arguments(__doc__, ROOT / "blueprints" / "patient-portal").parse_args()
    for name, seconds, note in lines(breakdown(Path(options.directory).resolve(), options.runs)):
        print(f"{name:<40} {seconds:6.2f}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
