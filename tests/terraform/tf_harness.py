"""Helpers for the offline Terraform tests: fixture paths and running the real CLI."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from generator.terraform.offline import Toolchain

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class TfResult:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


def run_terraform(toolchain: Toolchain, workdir: Path, *args: str, timeout: int = 300) -> TfResult:
    """Run the real terraform CLI with the offline toolchain's environment."""
    proc = subprocess.run(
        [str(toolchain.terraform), f"-chdir={workdir}", *args, "-no-color"],
        env=toolchain.environ(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return TfResult(proc.returncode, proc.stdout, proc.stderr)
