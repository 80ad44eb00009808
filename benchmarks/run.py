"""Benchmarks, one command: `python benchmarks/run.py [--runs N] [--quick]` prints one table.

Every comparison is measured in the same run on the same machine, compared cases interleaved
(round-robin), so ratios are meaningful even when absolute times wander on a shared machine:
- `generate` of the example, in-process and as a CLI process (also a first run, with an empty
  template cache), next to Python's own start-up and a CDK for Terraform (Python) app
  synthesising the same resources; the package's bytecode is compiled first, as `pip install`
  leaves it;
- `generate` of synthetic specs with 10, 100 and 1,000 instance groups (benchmarks/specs.py),
  in-process, CLI and cdktf, with the time per group and the 1000/100 ratio (linear = 10);
- offline `validate` (fmt + scratch copy + init + validate) next to plain `terraform validate`
  of the same directory (already initialised, same provider mirror);
- in-process `scan` next to the `checkov -d` CLI on the same blueprint, and plan mode beside it:
  `scan --plan --offline` (scratch copy, init, plan, show -json, scan) and the scan of the
  resulting plan JSON alone;
- `safespring-blueprints check` of the example as a process: wall time and peak memory;
- where an offline plan's time goes (benchmarks/breakdown.py): each Terraform command, its CPU
  time and the provider processes Terraform started, with providers started per command (as
  before the workspace served them) and served once; and where an HCL scan's time goes
  (benchmarks/scan_breakdown.py): start-up, the built-in checks and runner it imports, then
  Checkov's parse, graph and checks, which `checkov -d` does too, beside that CLI's own import;
- the plan-mode goals as whole processes, interleaved: the HCL scan, `scan --plan --offline`,
  `check` of a five-group spec and `checkov -d` (built-in checks only) on the same blueprint,
  with time and peak memory; with `--baseline REV` the same processes of the code at REV run in
  the same rounds, so every figure has its baseline beside it (`--only goals`, `--only
  breakdown` run those alone).

`--quick` is a smoke run (one run of each, no warm-up, no 1,000 groups, no cdktf, no `check`, the
100-group spec in-process only, validate and scan on `blueprints/minimal`, which needs no aws
provider): it proves the harness works in well under a minute; its numbers are not for quoting.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import scan_breakdown  # noqa: E402
from breakdown import breakdown, lines  # noqa: E402
from specs import FIVE_GROUPS, write_spec  # noqa: E402
from timing import Timing, interleaved, run_tracked  # noqa: E402

from generator import api, scan  # noqa: E402
from generator.terraform import offline  # noqa: E402
from generator.terraform import run as tf  # noqa: E402

SPEC = ROOT / "blueprints" / "patient-portal.yaml"
BLUEPRINT = ROOT / "blueprints" / "patient-portal"
QUICK_BLUEPRINT = ROOT / "blueprints" / "minimal"  # no aws provider: validate takes ~1 s, not ~20
TODAY = dt.date(2026, 11, 27)
EPOCH = "1795780800"  # 2026-11-27T12:00:00Z, the same day as TODAY for the CLI
TARGET_EXAMPLE_S = 0.3  # issue 6: the example generates in under 0.3 s wall
TARGET_1000_S = 5.0  # issue 6: 1,000 instance groups in under 5 s
TARGET_PLAN_RATIO = 2.0  # scan --plan --offline of the example at most 2x the HCL scan
TARGET_CHECK_S = 8.0  # check of the five-group spec
TARGET_PEAK_MIB = 300.0  # peak memory of a process of those runs
TARGET_CHECKOV_RATIO = 2.0  # the HCL scan at least 2x faster than the checkov -d CLI

Row = tuple[str, Timing | None, str]


def run_quiet(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None,
              ok_codes: tuple[int, ...] = (0,)) -> str:
    """Run a command, fail loudly on an unexpected exit code, return its stdout."""
    proc = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode not in ok_codes:
        raise RuntimeError(f"{args[:4]} exited {proc.returncode}: {proc.stderr[-1500:]}")
    return proc.stdout


def verdict(seconds: float, target: float) -> str:
    return f"target < {target:g} s: {'met' if seconds < target else 'MISSED'}"


class Bench:
    """Shared state of one benchmark run: options, environment, scratch directory, rows."""

    def __init__(self, runs: int, quick: bool, tmp: Path, baseline: str | None = None) -> None:
        self.runs = runs
        self.quick = quick
        self.tmp = tmp
        self.python = sys.executable
        # The benchmark's own template cache (compiled Jinja templates), warmed by the first run.
        self.env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(ROOT),
                    "XDG_CACHE_HOME": str(tmp / "cache")}
        self.rows: list[Row] = []
        self.notes: list[str] = []
        self.blueprint = QUICK_BLUEPRINT if quick else BLUEPRINT
        self.baseline = baseline

    def time(self, cases: dict[str, Callable[[], object]], runs: int | None = None) -> dict[str, Timing]:
        return interleaved(cases, runs or self.runs, warm_up=not self.quick)

    def generate_args(self, spec: Path, out: Path) -> list[str]:
        return [self.python, "-m", "generator", "generate", str(spec), "-o", str(out), "--force"]

    def cli_generate(self, spec: Path, out: Path) -> Callable[[], object]:
        args = self.generate_args(spec, out)
        return lambda: run_quiet(args, env=self.env)

    def cli_generate_cold(self, spec: Path, out: Path) -> Callable[[], object]:
        """A first run: an empty template cache each time (compiles every template)."""
        args = self.generate_args(spec, out)

        def run() -> object:
            with tempfile.TemporaryDirectory(dir=self.tmp) as cache:
                return run_quiet(args, env={**self.env, "XDG_CACHE_HOME": cache})

        return run

    def cdktf(self, spec: Path, out: Path) -> Callable[[], object]:
        args = [self.python, str(HERE / "cdktf_app.py"), str(spec), str(out)]
        return lambda: json.loads(run_quiet(args, env=self.env).strip().splitlines()[-1])

    # ------------------------------------------------------------------ rows

    def example(self) -> None:
        cases: dict[str, Callable[[], object]] = {
            "floor": lambda: run_quiet([self.python, "-c", "pass"]),
            "inproc": lambda: api.files_for(SPEC, TODAY),
            "cli": self.cli_generate(SPEC, self.tmp / "example"),
            "cold": self.cli_generate_cold(SPEC, self.tmp / "example-cold"),
        }
        if not self.quick:
            cases["cdktf"] = self.cdktf(SPEC, self.tmp / "cdktf-example")
        t = self.time(cases)
        self.rows.append(("python start-up (floor)", t["floor"], ""))
        self.rows.append(("generate example, in-process (check+render)", t["inproc"],
                          f"{len(t['inproc'].extra[1])} files"))
        self.rows.append(("generate example, CLI (wall)", t["cli"],
                          f"{t['cli'].median / t['floor'].median:.0f}x python start-up; "
                          + verdict(t["cli"].median, TARGET_EXAMPLE_S)))
        self.rows.append(("generate example, CLI, first run (empty template cache)", t["cold"],
                          f"{t['cold'].median / t['cli'].median:.2f}x a later run"))
        if "cdktf" in t:
            self.rows.append(self.cdktf_row("cdktf synth example (subprocess)", t["cdktf"],
                                            t["cli"], None))

    def cdktf_row(self, name: str, timing: Timing, cli: Timing, groups: int | None) -> Row:
        info = timing.extra
        phases = (f"import {info['import_s']:.1f} + constructs {info['construct_s']:.1f} + "
                  f"synth {info['synth_s']:.1f} s")
        per = f"{1000 * timing.median / groups:.1f} ms/group; " if groups else ""
        return (name, timing, f"{info['resources']} resources; {per}{phases}; "
                f"{timing.median / cli.median:.2f}x the CLI generate")

    def scaling(self) -> None:
        sizes = (10, 100) if self.quick else (10, 100, 1000)
        results: dict[int, dict[str, Timing]] = {}
        for groups in sizes:
            spec = write_spec(groups, self.tmp)
            cases: dict[str, Callable[[], object]] = {
                "inproc": lambda spec=spec: api.files_for(spec, TODAY)}
            if not (self.quick and groups > 10):
                cases["cli"] = self.cli_generate(spec, self.tmp / f"gen-{groups}")
            if not self.quick:
                cases["cdktf"] = self.cdktf(spec, self.tmp / f"cdktf-{groups}")
            heavy = groups >= 1000
            runs = max(1, self.runs // 2) if heavy else self.runs
            results[groups] = t = interleaved(cases, runs, warm_up=not (self.quick or heavy))
            files = t["inproc"].extra[1]
            size_mb = sum(len(v) for v in files.values()) / 1e6
            self.rows.append((f"generate {groups} groups, in-process", t["inproc"],
                              f"{1000 * t['inproc'].median / groups:.1f} ms/group; "
                              f"{len(files)} files, {size_mb:.1f} MB"))
            if "cli" in t:
                note = f"{1000 * t['cli'].median / groups:.1f} ms/group"
                if heavy:
                    note += "; " + verdict(t["cli"].median, TARGET_1000_S)
                self.rows.append((f"generate {groups} groups, CLI (wall)", t["cli"], note))
            if "cdktf" in t:
                self.rows.append(self.cdktf_row(f"cdktf synth {groups} groups", t["cdktf"],
                                                t["cli"], groups))
            if heavy:
                self.notes.append(f"1,000 groups: {runs} run(s) per case, no warm-up")
        if 1000 in results:
            ratios = ", ".join(
                f"{name} {results[1000][key].median / results[100][key].median:.1f}"
                for key, name in (("inproc", "in-process"), ("cli", "CLI"), ("cdktf", "cdktf"))
                if key in results[1000])
            self.rows.append(("ratio 1000 groups / 100 groups", None, f"{ratios} (linear = 10)"))

    def validate(self) -> None:
        toolchain = offline.prepare()
        tf_env = tf.base_env(toolchain.env)
        plain_dir = self.tmp / "plain"
        with tf.scratch_copy(self.blueprint) as copy:
            shutil.copytree(copy.parent, plain_dir)
        plain_root = plain_dir / self.blueprint.name
        assert tf.init(plain_root, tf_env, backend=False).ok
        t = self.time({
            "ours": lambda: api.validate(self.blueprint, offline=True),
            "plain": lambda: run_quiet(["terraform", f"-chdir={plain_root}", "validate"], env=tf_env),
        })
        assert t["ours"].extra.ok, f"offline validate of {self.blueprint} failed"
        name = self.blueprint.name
        self.rows.append((f"validate --offline {name} (fmt+copy+init+validate)", t["ours"], ""))
        self.rows.append((f"plain terraform validate {self.blueprint.name} (initialised)", t["plain"],
                          f"ours is {t['ours'].median / t['plain'].median:.2f}x"))

    def scan(self) -> None:
        scan.scan(self.blueprint)  # pays Checkov's import once, as a long-running process would
        checkov = shutil.which("checkov") or str(Path(self.python).parent / "checkov")
        cli = [checkov, "-d", str(self.blueprint), "--quiet", "--skip-download", "--framework",
               "terraform", "--external-checks-dir", str(ROOT / "generator" / "policies")]
        cli_runs = max(1, self.runs // 2)
        t = interleaved({"inproc": lambda: scan.scan(self.blueprint),
                         "cli": lambda: run_quiet(cli, env=self.env, ok_codes=(0, 1))},
                        cli_runs, warm_up=False)
        self.rows.append((f"scan {self.blueprint.name}, in-process (after import)", t["inproc"], "HCL mode"))
        self.rows.append((f"checkov -d {self.blueprint.name} CLI, same pack", t["cli"],
                          f"in-process is {t['cli'].median / t['inproc'].median:.1f}x faster"))
        self.notes.append(f"scan rows: {cli_runs} run(s) each")
        self.scan_plan(t["inproc"])

    def scan_plan(self, hcl: Timing) -> None:
        """Plan mode beside HCL mode: the whole `scan --plan --offline`, and its scan alone."""
        variables = {"key_pair": "benchmark"}
        checks, data = api.plan_data(self.blueprint, offline=True, variables=variables)
        assert checks.ok, f"offline plan of {self.blueprint} failed"
        runs = max(1, self.runs // 2)
        t = interleaved({
            "plan": lambda: api.scan(self.blueprint, plan=True, offline=True, variables=variables),
            "json": lambda: api.scan_plan_data(data, self.blueprint),
        }, runs, warm_up=False)
        name = self.blueprint.name
        assert t["plan"].extra.ok and t["json"].extra.ok, f"plan-mode scan of {name} has failures"
        self.rows.append((f"scan {name} --plan --offline (copy+init+plan+show+scan)", t["plan"],
                          f"{t['plan'].median / hcl.median:.0f}x the HCL-mode scan"))
        self.rows.append((f"scan {name} plan JSON, in-process (after import)", t["json"],
                          f"{t['json'].median / hcl.median:.1f}x the HCL-mode scan"))
        self.notes.append(f"plan-mode rows: {runs} run(s) each")

    def check(self) -> None:
        exe = shutil.which("safespring-blueprints") or str(Path(self.python).parent /
                                                           "safespring-blueprints")
        args = [exe, "check", str(SPEC), "--report-dir", str(self.tmp / "report")]
        runs = max(1, min(3, self.runs))
        tracked = [run_tracked(args, env=self.env, cwd=self.tmp) for _ in range(runs)]
        seconds = sorted(t.seconds for t in tracked)
        timing = Timing(seconds[len(seconds) // 2], seconds[-1] - seconds[0], runs)
        largest = max(t.max_rss_mib for t in tracked)
        tree = max(t.tree_peak_mib for t in tracked)
        self.rows.append(("safespring-blueprints check example (process)", timing,
                          f"peak RSS: largest process {largest:.0f} MiB, "
                          f"whole tree {tree:.0f} MiB (sampled 20/s)"))
        self.notes.append(f"check: {runs} run(s)")


    def breakdown(self) -> None:
        """Where an offline plan's time goes (benchmarks/breakdown.py), before and now, and an
        HCL scan's (benchmarks/scan_breakdown.py)."""
        runs = max(1, min(3, self.runs))
        for name, seconds, note in lines(breakdown(self.blueprint, {"key_pair": "benchmark"}, runs)):
            self.rows.append((name, Timing(seconds, 0.0, runs), note))
        for name, seconds, note in scan_breakdown.lines(scan_breakdown.breakdown(self.blueprint, runs,
                                                                                 self.python)):
            self.rows.append((name, Timing(seconds, 0.0, runs), note))
        self.notes.append(f"breakdown: {runs} run(s), spread not measured")

    def goals(self) -> None:
        """The plan-mode goals as whole processes, each next to the same process of the baseline
        (the code at `--baseline REV`, run from a copy of that revision with the same
        environment), all interleaved: the HCL scan, the plan-mode scan, `check` of the
        five-group spec, and the checkov -d CLI (built-in checks only) on the same blueprint."""
        spec = write_spec(FIVE_GROUPS, self.tmp, schedule="hourly")
        trees = {"now": ROOT}
        if self.baseline:
            base = self.tmp / "baseline"
            base.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", self.baseline, "generator",
                                      "modules"],
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
            compileall.compile_dir(base / "generator", quiet=1)
            trees["baseline"] = base
        checkov = shutil.which("checkov") or str(Path(self.python).parent / "checkov")
        cases: dict[str, list[str]] = {}
        for label in trees:
            cli = [self.python, "-m", "generator"]
            cases[f"{label}|hcl"] = [*cli, "scan", str(self.blueprint)]
            cases[f"{label}|plan"] = [*cli, "scan", str(self.blueprint), "--plan", "--offline",
                                      "-var", "key_pair=benchmark"]
            cases[f"{label}|check"] = [*cli, "check", str(spec), "--report-dir",
                                       str(self.tmp / f"report-{label}")]
        cases["checkov|checkov"] = [checkov, "-d", str(self.blueprint), "--quiet", "--skip-download",
                                    "--framework", "terraform"]
        envs = {label: {**self.env, "PYTHONPATH": str(tree)} for label, tree in trees.items()}
        runs = max(1, min(5, self.runs))
        # One untimed round first: the trees share the benchmark's cache (the offline toolchain,
        # keyed by version and schema), which whichever case ran first would otherwise pay
        # for, peak memory included. A cold first plan is its own case, not a goal.
        for name, args in cases.items():
            run_tracked(args, env=envs.get(name.split("|")[0], self.env), cwd=self.tmp,
                        ok_codes=(0, 1))
        tracked: dict[str, list] = {name: [] for name in cases}
        for _ in range(runs):
            for name, args in cases.items():
                label = name.split("|")[0]
                tracked[name].append(run_tracked(args, env=envs.get(label, self.env), cwd=self.tmp,
                                                 ok_codes=(0, 1)))
        t = {name: Timing(sorted(x.seconds for x in got)[len(got) // 2],
                          max(x.seconds for x in got) - min(x.seconds for x in got), len(got),
                          max(x.max_rss_mib for x in got)) for name, got in tracked.items()}
        for label in trees:
            hcl, plan, check = t[f"{label}|hcl"], t[f"{label}|plan"], t[f"{label}|check"]
            peak = max(float(hcl.extra), float(plan.extra), float(check.extra))  # type: ignore[arg-type]
            tag = "" if label == "now" else " [baseline " + self.baseline + "]"  # type: ignore[operator]
            self.rows.append((f"scan {self.blueprint.name} (HCL), CLI process{tag}", hcl,
                              f"peak {float(hcl.extra):.0f} MiB; checkov -d is "  # type: ignore[arg-type]
                              f"{t['checkov|checkov'].median / hcl.median:.2f}x as long (target >= "
                              f"{TARGET_CHECKOV_RATIO:g}x)"))
            self.rows.append((f"scan {self.blueprint.name} --plan --offline, CLI process{tag}", plan,
                              f"{plan.median / hcl.median:.2f}x the HCL scan (target <= "
                              f"{TARGET_PLAN_RATIO:g}x); peak {float(plan.extra):.0f} MiB"))  # type: ignore[arg-type]
            self.rows.append((f"check of the five-group spec, CLI process{tag}", check,
                              verdict(check.median, TARGET_CHECK_S) + f"; peak {float(check.extra):.0f} "
                              f"MiB; largest process of the three runs {peak:.0f} MiB (target <= "
                              f"{TARGET_PEAK_MIB:g})"))
        self.rows.append((f"checkov -d {self.blueprint.name} CLI, built-in checks only", t["checkov|checkov"],
                          f"peak {float(t['checkov|checkov'].extra):.0f} MiB"))  # type: ignore[arg-type]
        self.notes.append(f"goal rows: {runs} run(s) each after an untimed warm-up round, whole "
                          "processes, peak = largest process (ru_maxrss)")


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "?"
    return (f"{os.cpu_count()} cores ({model}), load average {load}; "
            f"python {platform.python_version()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case (default 5)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 run, no warm-up, no 1,000 groups, cdktf or check")
    parser.add_argument("--baseline", metavar="REV",
                        help="also run the goal rows with the code of this git revision")
    parser.add_argument("--only", choices=("goals", "breakdown"),
                        help="run only the plan-mode goals, or only the plan breakdown")
    options = parser.parse_args()
    runs = 1 if options.quick else max(1, options.runs)
    print(f"machine: {machine()}", flush=True)
    # Bytecode as `pip install` leaves it: without it (PYTHONDONTWRITEBYTECODE, a fresh clone)
    # every CLI process would compile the package's modules from source first.
    compileall.compile_dir(ROOT / "generator", quiet=1)
    with tempfile.TemporaryDirectory(prefix="ssb-bench-") as tmp:
        bench = Bench(runs, options.quick, Path(tmp), options.baseline)
        if options.only == "goals":
            bench.goals()
        elif options.only == "breakdown":
            bench.breakdown()
        else:
            bench.example()
            bench.scaling()
            bench.validate()
            bench.scan()
            if not options.quick:
                bench.check()
                bench.breakdown()
                bench.goals()
    width = max(len(r[0]) for r in bench.rows)
    print(f"{'benchmark'.ljust(width)}  median s  spread s  note")
    for name, timing, note in bench.rows:
        numbers = f"{timing.median:8.3f}  {timing.spread:8.3f}" if timing else " " * 18
        print(f"{name.ljust(width)}  {numbers}  {note}".rstrip())
    print(f"\n{runs} run(s) per case unless noted ({'; '.join(bench.notes) or 'none'}); "
          f"{'--quick: smoke run, do not quote; ' if options.quick else ''}load now "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
