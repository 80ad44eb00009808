"""A real S3 API on loopback for the tests that apply buckets: `moto_server` from the test venv.

One launcher for every test directory (storage, guest_backup, the offline rehearsal). A missing
moto_server fails the test loudly, never skips it. Bucket names are global per server: tests
that create the same buckets at once start one server each.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Fake credentials for the local S3 server; moto accepts any key.
FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "ssb-test-access-key",
    "AWS_SECRET_ACCESS_KEY": "ssb-test-secret-key",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server(log_dir: Path, limit: float = 120) -> Iterator[str]:
    """Start moto_server on a free loopback port, yield its endpoint URL, stop it afterwards."""
    binary = Path(sys.executable).parent / "moto_server"
    if not binary.exists():
        found = shutil.which("moto_server")
        if found is None:
            pytest.fail("moto_server not found; install moto[server] into the test venv")
        binary = Path(found)
    port = free_port()
    log = log_dir / "moto_server.log"
    with log.open("wb") as log_fh:
        proc = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port)],
                                stdout=log_fh, stderr=subprocess.STDOUT,
                                env={**os.environ, **FAKE_AWS_ENV})
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + limit
        while True:
            if proc.poll() is not None:
                pytest.fail(f"moto_server exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                    break
            except urllib.error.HTTPError:
                break  # it answered, which is all we need
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not answer on {endpoint} within {limit} s:\n"
                                f"{log.read_text()}")
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
