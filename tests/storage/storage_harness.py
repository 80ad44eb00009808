"""Shared pieces of the storage tests: paths, fake credentials, the Terraform runner.

A module with a unique name (not conftest) so test files can import it without clashing with
other test packages' conftest modules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.moto_s3 import FAKE_AWS_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
PLUGIN_MIRROR = Path(os.environ.get("SSB_TF_PLUGIN_MIRROR", "/opt/tf-plugins"))
VENV_BIN = Path(sys.executable).parent

__all__ = ["FAKE_AWS_ENV", "PLUGIN_MIRROR", "REPO_ROOT", "TIMINGS", "VENV_BIN", "TerraformRunner"]

# Timings of the Terraform/Checkov steps, printed at the end of the run (conftest.py prints them).
TIMINGS: list[tuple[str, float]] = []


@dataclass
class TerraformRunner:
    """Runs the real terraform binary with our own CLI config and a clean environment."""

    binary: str
    env: dict[str, str]
    timings: list[tuple[str, float]] = field(default_factory=lambda: TIMINGS)

    @staticmethod
    def describe(proc: subprocess.CompletedProcess[str]) -> str:
        """Everything needed to understand a failed call in the pytest report."""
        return (
            f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
        )

    @staticmethod
    def copy_into(dest_root: Path, rel_paths: Sequence[str]) -> None:
        """Copy repo paths into DEST_ROOT with the same relative layout, so module sources resolve.

        Working on a copy keeps .terraform/, lock files and state out of the repository.
        """
        ignore = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*")
        for rel in rel_paths:
            src = REPO_ROOT / rel
            if not src.is_dir():
                pytest.fail(f"{src} is missing")
            shutil.copytree(src, dest_root / rel, ignore=ignore)

    def __call__(
        self,
        args: Sequence[str],
        cwd: Path,
        *,
        label: str | None = None,
        timeout: float = 600,
        extra_env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run `terraform ARGS` in CWD; never raises on a non-zero exit (callers assert)."""
        env = {**self.env, **(extra_env or {})}
        start = time.monotonic()
        proc = subprocess.run(
            [self.binary, *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        elapsed = time.monotonic() - start
        self.timings.append((label or f"terraform {args[0]} ({cwd.name})", elapsed))
        return proc
