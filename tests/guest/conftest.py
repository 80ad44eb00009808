"""Fixtures for the guest-side LUKS + Tang tests (helpers live in guest_harness.py)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from guest_harness import SCRIPT, Guest, TangServer, make_tang, require


@pytest.fixture
def tang(tmp_path: Path) -> Iterator[TangServer]:
    server = make_tang(tmp_path, "a").start()
    yield server
    server.close()


@pytest.fixture
def tang2(tmp_path: Path) -> Iterator[TangServer]:
    server = make_tang(tmp_path, "b").start()
    yield server
    server.close()


@pytest.fixture
def guest_factory(tmp_path: Path) -> Iterator:
    made: list[Guest] = []

    def make(tang_urls: list[str], threshold: int = 1, size_mib: int = 64) -> Guest:
        guest = Guest(tmp_path / f"guest{len(made)}", tang_urls, threshold, size_mib)
        made.append(guest)
        return guest

    for tool in ("losetup", "mount", "umount"):
        require(tool)
    yield make
    for guest in made:
        guest.cleanup()


@pytest.fixture(scope="session")
def script() -> ModuleType:
    """The guest script imported as a module (it has no .py suffix, being an installed tool)."""
    loader = importlib.machinery.SourceFileLoader("ssb_luks_tang", str(SCRIPT))
    spec = importlib.util.spec_from_loader("ssb_luks_tang", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
