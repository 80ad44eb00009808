"""Fixtures for the storage module tests: real Terraform, real Checkov, a real S3 API (moto).

Nothing here is mocked: a missing tool makes the tests fail loudly, never skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from storage_harness import (
    FAKE_AWS_ENV,
    PLUGIN_MIRROR,
    REPO_ROOT,
    TIMINGS,
    VENV_BIN,
    TerraformRunner,
)

from tests.moto_s3 import moto_server


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how long each Terraform step took: the apply test is the slow part of CI."""
    if TIMINGS:
        terminalreporter.section("storage: measured step times")
        for label, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:7.1f} s  {label}")


@pytest.fixture(scope="session")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> TerraformRunner:
    """A Terraform runner that installs providers only from the offline filesystem mirror."""
    binary = shutil.which("terraform")
    if binary is None:
        pytest.fail("terraform is not on PATH; these tests need the real binary")
    if not (PLUGIN_MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.fail(f"no hashicorp/aws provider in the filesystem mirror {PLUGIN_MIRROR}")

    home = tmp_path_factory.mktemp("tf-cli")
    cli_config = home / "terraform.rc"
    cli_config.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{PLUGIN_MIRROR}"\n  }}\n'
        "}\n",
        encoding="utf-8",
    )
    # Empty AWS config files so nothing from the user's ~/.aws leaks into a test.
    (home / "aws-config").write_text("", encoding="utf-8")
    (home / "aws-credentials").write_text("", encoding="utf-8")

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.update(
        {
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "AWS_CONFIG_FILE": str(home / "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
            **FAKE_AWS_ENV,
        }
    )
    return TerraformRunner(binary=binary, env=env)


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real S3 API on loopback (tests/moto_s3.py), stopped after the module."""
    start = time.monotonic()
    with moto_server(tmp_path_factory.mktemp("moto")) as endpoint:
        TIMINGS.append(("moto_server start-up", time.monotonic() - start))
        yield endpoint


@pytest.fixture(scope="module")
def s3_client(s3_endpoint: str) -> object:
    """boto3 S3 client for reading back what Terraform configured on the local server."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="session")
def checkov() -> Callable[[Path], subprocess.CompletedProcess[str]]:
    """Run the real Checkov CLI (offline) on a directory, JSON output."""
    binary = VENV_BIN / "checkov"
    if not binary.exists():
        found = shutil.which("checkov")
        if found is None:
            pytest.fail("checkov not found; install checkov into the test venv")
        binary = Path(found)

    def run(directory: Path) -> subprocess.CompletedProcess[str]:
        start = time.monotonic()
        proc = subprocess.run(
            [
                str(binary),
                "-d",
                str(directory),
                "--framework",
                "terraform",
                "--skip-download",
                "-o",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        TIMINGS.append((f"checkov {directory.relative_to(REPO_ROOT)}", time.monotonic() - start))
        return proc

    return run
