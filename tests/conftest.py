"""Shared fixtures: the repository layout, a fixed date, and running the real CLI."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The date the golden blueprints and rule tests are checked against.
TODAY = dt.date(2026, 11, 27)
TODAY_EPOCH = str(int(dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC).timestamp()))


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str | None] | None = None,
            timeout: float = 120) -> Run:
    """Run `safespring-blueprints` as a user would (a real process, real exit code); an `env`
    value of None unsets that variable (e.g. SOURCE_DATE_EPOCH, for the real clock)."""
    merged = {**os.environ, "SOURCE_DATE_EPOCH": TODAY_EPOCH, **(env or {})}
    environ = {key: value for key, value in merged.items() if value is not None}
    environ.pop("SAFESPRING_BLUEPRINTS_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "generator", *args], cwd=cwd or ROOT,
                          env=environ, capture_output=True, text=True, timeout=timeout)
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session", autouse=True)
def _template_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Compiled templates go to a cache of the test session's own, not the user's ~/.cache."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture
def valid_spec_text() -> str:
    return (FIXTURES / "specs" / "valid.yaml").read_text("utf-8")


@pytest.fixture(scope="session")
def planned() -> Callable[..., dict]:
    """Offline plans (`terraform show -json` as data), made once per directory and variables in
    a test session: a plan costs an init and several seconds of provider start-up."""
    from generator import api

    made: dict[tuple[str, tuple[tuple[str, str], ...]], dict] = {}

    def plan(directory: Path, variables: dict[str, str] | None = None) -> dict:
        key = (str(Path(directory).resolve()), tuple(sorted((variables or {}).items())))
        if key not in made:
            checks, data = api.plan_data(directory, offline=True, inputs=variables)
            failed = [s for s in checks.steps if not s.ok]
            assert not failed, "\n".join(f"{s.name}: {s.output[-3000:]}" for s in failed)
            made[key] = data
        return made[key]

    return plan


@pytest.fixture(scope="session")
def terraform_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for plain Terraform runs: our own CLI config, never the user's."""
    cfg = tmp_path_factory.mktemp("tfcli") / "terraform.rc"
    cfg.write_text("# empty: tests that need providers use the offline toolchain\n")
    return {**os.environ, "TF_CLI_CONFIG_FILE": str(cfg), "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1"}
