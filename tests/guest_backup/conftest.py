"""Fixtures for the backup tests: a real Tang server, a real S3 API, instances in temp roots."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.guest_backup.backup_harness import (
    TIMINGS,
    BackgroundApply,
    Instance,
    TangServer,
    config_for,
    make_locked_bucket,
    make_tang,
    moto_server,
    s3_client,
)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How long the real tools took: the budget for this directory is about three minutes."""
    if TIMINGS:
        terminalreporter.section("guest_backup: measured step times")
        for label, seconds in TIMINGS:
            terminalreporter.write_line(f"{seconds:7.2f} s  {label}")


_BACKGROUND: list[BackgroundApply] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that need the applied bucket go last, so the apply overlaps everything else."""
    items.sort(key=lambda item: "applied_bucket" in getattr(item, "fixturenames", ()))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the slow terraform apply now if a selected test needs it (see BackgroundApply)."""
    if any("applied_bucket" in getattr(item, "fixturenames", ()) for item in session.items):
        _BACKGROUND.append(BackgroundApply(Path(tempfile.mkdtemp(prefix="ssb-backup-apply-"))))


def pytest_sessionfinish(session: pytest.Session) -> None:
    for job in _BACKGROUND:
        job.close()
        shutil.rmtree(job.work, ignore_errors=True)


@pytest.fixture(scope="session")
def applied_bucket() -> BackgroundApply:
    """modules/backup-bucket applied against moto_server (started at collection time)."""
    if not _BACKGROUND:
        pytest.fail("the background apply was not started (pytest_collection_finish)")
    return _BACKGROUND[0].wait()


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with moto_server(tmp_path_factory.mktemp("moto")) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def s3(s3_endpoint: str) -> Any:
    return s3_client(s3_endpoint)


@pytest.fixture
def bucket(s3: Any) -> str:
    """A fresh Object-Locked, versioned bucket for each test."""
    name = f"ssb-backups-{uuid.uuid4().hex[:10]}"
    make_locked_bucket(s3, name)
    return name


@pytest.fixture
def tang(tmp_path: Path) -> Iterator[TangServer]:
    server = make_tang(tmp_path, "a").start()
    yield server
    server.close()


@pytest.fixture
def instance_factory(
    tmp_path: Path, s3_endpoint: str, bucket: str, tang: TangServer
) -> Iterator[Callable[..., Instance]]:
    """Make 'instances' of one blueprint (same generated files) in separate temp roots."""
    made: list[Instance] = []

    def make(host: str = "app-1", mount: bool = True) -> Instance:
        inst = Instance(tmp_path / f"instance{len(made)}", host, s3_endpoint,
                        config_for(bucket, [tang.url]))
        made.append(inst)
        if mount:
            inst.mount_volume()
        return inst

    yield make
    for inst in made:
        inst.cleanup()
