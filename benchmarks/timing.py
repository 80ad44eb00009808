"""Timing helpers: interleaved medians, and subprocesses measured for wall time and peak memory.

The machine is shared (2 cores, other jobs running), so compared cases are run round-robin
(A B C A B C ...) rather than one block after another: a burst of outside load then hits
every case alike, and the median of each drops the outliers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Timing:
    """Median and spread (max - min) of the runs of one case, in seconds."""

    median: float
    spread: float
    runs: int
    extra: object = None  # what the last run returned (e.g. a resource count)


def interleaved(cases: Mapping[str, Callable[[], object]], runs: int, *,
                warm_up: bool = True) -> dict[str, Timing]:
    """Time every case `runs` times, round-robin, after one untimed warm-up round."""
    if warm_up:
        for fn in cases.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in cases}
    last: dict[str, object] = {}
    for _ in range(runs):
        for name, fn in cases.items():
            start = time.perf_counter()
            last[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: Timing(statistics.median(t), max(t) - min(t), len(t), last.get(name))
            for name, t in times.items()}


class ProcessFailed(RuntimeError):
    """A benchmarked command failed: its numbers would mean nothing."""


@dataclass(frozen=True)
class Tracked:
    """One measured subprocess."""

    seconds: float
    max_rss_mib: float  # the largest single process of the tree (kernel's ru_maxrss via wait4)
    tree_peak_mib: float  # sum over the live tree, sampled every `interval` seconds
    stdout: str


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _tree_rss_kib(root: int) -> int:
    tree = _children()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, ()))
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            continue
    return total


def run_tracked(args: Sequence[str], *, env: Mapping[str, str] | None = None,
                cwd: Path | None = None, ok_codes: tuple[int, ...] = (0,),
                interval: float = 0.05) -> Tracked:
    """Run a command; wall time, the kernel's peak RSS of its largest process (`wait4`, what
    `/usr/bin/time -v` reports) and a sampled peak of the whole tree's summed RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(args), env=dict(env) if env else None, cwd=cwd,
                                stdout=out, stderr=err)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss_kib(proc.pid))
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        if proc.returncode not in ok_codes:
            tail = err.read().decode("utf-8", "replace")[-1500:]
            raise ProcessFailed(f"{' '.join(args[:4])} ... exited {proc.returncode}:\n{tail}")
    return Tracked(seconds, usage.ru_maxrss / 1024, peak / 1024, stdout)


def directory_arguments(doc: str | None, default: Path) -> argparse.ArgumentParser:
    """The command line of a breakdown run alone: DIRECTORY (default `default`) and --runs."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", nargs="?", default=str(default))
    parser.add_argument("--runs", type=int, default=3)
    return parser
