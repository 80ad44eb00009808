"""Where the time of an offline plan goes: each Terraform command, its CPU time and the provider
processes Terraform started for it, in two set-ups measured in the same run:

- `per-command`: as the project planned before the workspace served its providers, and as plain
  Terraform does: every command (init, validate, plan, show) starts its providers from the
  filesystem mirrors, the real aws provider among them, once for its schema and once per
  provider configuration (`aws`, `aws.backup`) and walk (`plan` validates, then plans);
- `served`: the workspace (generator/terraform/workspace.py): one process serves the schema-only
  providers to every command (TF_REATTACH_PROVIDERS), the aws provider's S3 resources included.

Provider starts are counted from Terraform's own debug log ("starting plugin"). Run alone:
`python benchmarks/breakdown.py [DIR] [--runs N]`; `benchmarks/run.py` prints it too.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from timing import directory_arguments  # noqa: E402

from generator.terraform import offline  # noqa: E402
from generator.terraform import run as tf  # noqa: E402
from generator.terraform.schema import PROVIDER_VERSION  # noqa: E402
from generator.terraform.workspace import Workspace, offline_plan_env  # noqa: E402

COMMANDS = ("init", "validate", "plan", "show")
_START = re.compile(r"starting plugin: path=\S*?registry\.terraform\.io/([\w.-]+/[\w.-]+)/")


@dataclass
class Command:
    """One Terraform command: wall and CPU seconds (its process tree), provider processes."""

    wall: float
    cpu: float
    starts: Counter = field(default_factory=Counter)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> Command:
    with tempfile.NamedTemporaryFile(suffix=".log") as log:
        logged = {**env, "TF_LOG": "debug", "TF_LOG_PATH": log.name}
        cpu, start = _cpu(), time.perf_counter()
        proc = subprocess.run(["terraform", f"-chdir={cwd}", *args], env=logged,
                              capture_output=True, text=True, check=False)
        wall, used = time.perf_counter() - start, _cpu() - cpu
        if proc.returncode != 0:
            raise RuntimeError(f"terraform {args[0]} failed: {proc.stderr[-1500:]}")
        starts = Counter(name.split("/")[-1] for name in _START.findall(Path(log.name).read_text()))
    return Command(wall, used, starts)


def _args(command: str, plan_file: Path, variables: dict[str, str]) -> list[str]:
    return {"init": ["init", "-input=false", "-no-color"],
            "validate": ["validate", "-json", "-no-color"],
            "plan": ["plan", "-input=false", "-no-color", "-refresh=false", f"-out={plan_file}",
                     *[f"-var={k}={v}" for k, v in variables.items()]],
            "show": ["show", "-json", "-no-color", str(plan_file)]}[command]


def per_command(directory: Path, variables: dict[str, str]) -> dict[str, Command]:
    """The commands with providers started by Terraform from the mirrors, each time."""
    env = offline_plan_env(tf.base_env(offline.prepare().env))
    with tf.scratch_copy(directory, openstack_version=PROVIDER_VERSION) as copy, \
            tempfile.TemporaryDirectory() as tmp:
        return {c: _run(_args(c, Path(tmp) / "plan.tfplan", variables), copy, env) for c in COMMANDS}


def served(directory: Path, variables: dict[str, str]) -> dict[str, Command]:
    """The same commands in a workspace: its provider server started once (`providers`)."""
    cpu, start = _cpu(), time.perf_counter()
    with Workspace(directory, offline=True) as ws, tempfile.TemporaryDirectory() as tmp:
        ws._providers_ready()
        out = {"providers": Command(time.perf_counter() - start, 0.0)}
        out.update({c: _run(_args(c, Path(tmp) / "plan.tfplan", variables), ws.workdir, ws.env)
                    for c in COMMANDS})
    # The server is waited for when the workspace closes: its CPU time is counted then.
    out["providers"].cpu = _cpu() - cpu - sum(c.cpu for name, c in out.items() if name != "providers")
    return out


def breakdown(directory: Path, variables: dict[str, str], runs: int) -> dict[str, dict[str, Command]]:
    """Medians over `runs` runs of each set-up, interleaved."""
    samples: dict[str, list[dict[str, Command]]] = {"per-command": [], "served": []}
    for _ in range(runs):
        samples["per-command"].append(per_command(directory, variables))
        samples["served"].append(served(directory, variables))
    result: dict[str, dict[str, Command]] = {}
    for setup, runs_of in samples.items():
        result[setup] = {name: Command(statistics.median(r[name].wall for r in runs_of),
                                       statistics.median(r[name].cpu for r in runs_of),
                                       runs_of[-1][name].starts)
                         for name in runs_of[0]}
    return result


def lines(result: dict[str, dict[str, Command]]) -> list[tuple[str, float, str]]:
    """(name, median wall seconds, note) rows for benchmarks/run.py's table."""
    rows = []
    for setup, commands in result.items():
        total = sum(c.wall for c in commands.values())
        starts = sum((c.starts for c in commands.values()), Counter())
        rows.append((f"offline plan, {setup}: sum of steps", total,
                     f"cpu {sum(c.cpu for c in commands.values()):.1f} s; provider processes "
                     + (", ".join(f"{n} x{k}" for n, k in sorted(starts.items())) or "none")
                     + (" (plus one server)" if setup == "served" else "")))
        for name, c in commands.items():
            started = ", ".join(f"{n} x{k}" for n, k in sorted(c.starts.items()))
            rows.append((f"  {setup}: {name}", c.wall,
                         f"cpu {c.cpu:.1f} s" + (f"; started {started}" if started else "")))
    return rows


def main() -> int:
    parser = directory_arguments(__doc__, ROOT / "blueprints" / "patient-portal")
    parser.add_argument("-var", dest="variables", action="append", default=["key_pair=benchmark"])
    options = parser.parse_args()
    variables = dict(v.split("=", 1) for v in options.variables)
    for name, wall, note in lines(breakdown(Path(options.directory), variables, options.runs)):
        print(f"{name:45s} {wall:7.2f} s  {note}")
    print(f"medians of {options.runs} run(s); load {' '.join(os.getloadavg().__str__().split()[:3])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
