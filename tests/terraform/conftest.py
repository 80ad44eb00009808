"""One prepared offline toolchain per test session (shared by every test in this directory)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tf_harness import FIXTURES

from generator.terraform.offline import Toolchain, prepare


@pytest.fixture(scope="session")
def offline_toolchain(tmp_path_factory: pytest.TempPathFactory) -> Toolchain:
    """A cold prepare into a session-private cache (the user's cache is left alone)."""
    return prepare(tmp_path_factory.mktemp("tf-offline-cache"))


@pytest.fixture
def fixture_copy(tmp_path: Path):
    """Copy a fixture directory to tmp_path, so .terraform and lock files never land in the repo."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target)
        return target

    return copy
