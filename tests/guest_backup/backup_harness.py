"""Helpers for the backup tests: an 'instance' in a temporary root, a real S3 API (moto_server)
and the real Tang server from tests/guest (imported read-only).

Nothing is mocked: restic, clevis, tangd and moto_server are the real programs. A missing tool
fails the test loudly instead of skipping it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
for helper_dir in (TESTS / "guest", TESTS / "storage"):
    if str(helper_dir) not in sys.path:
        sys.path.insert(0, str(helper_dir))

from guest_harness import TangServer, make_tang  # noqa: E402

from generator.features.backup import backup_config  # noqa: E402
from generator.render.cloudinit import GuestConfig  # noqa: E402
from tests.moto_s3 import FAKE_AWS_ENV, free_port, moto_server  # noqa: E402

__all__ = ["FAKE_AWS_ENV", "TIMINGS", "Instance", "TangServer", "free_port", "make_tang", "moto_server",
           "require"]

SITE_ENDPOINT = "https://s3.sto2.safedc.net"
# Step timings of this test directory, printed at the end of the run (conftest.py).
TIMINGS: list[tuple[str, float]] = []
PACKAGES = "restic clevis tang"


def require(tool: str) -> str:
    """Path of `tool`, or fail (never skip): these tests are about the real tools."""
    found = shutil.which(tool)
    if not found:
        pytest.fail(f"{tool} is not installed (apt-get install -y {PACKAGES})")
    return found


def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


class SlowDownFront:
    """A plain HTTP front for the S3 API that answers the first `failures` requests with
    503 SlowDown (what Ceph RGW sends under load) and forwards the rest unchanged."""

    def __init__(self, upstream: str, failures: int) -> None:
        import http.client
        import http.server
        import threading
        import urllib.parse

        target = urllib.parse.urlsplit(upstream)
        front = self
        self.failures = failures
        self.refused = 0
        self.forwarded = 0
        self._lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _relay(self) -> None:
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("transfer-encoding", "expect", "connection")}
                if "chunked" in self.headers.get("Transfer-Encoding", ""):
                    body = b""
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        body += self.rfile.read(size)
                        self.rfile.readline()
                    self.rfile.readline()
                    headers["Content-Length"] = str(len(body))
                else:
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with front._lock:
                    refuse = front.refused < front.failures
                    front.refused += refuse
                    front.forwarded += not refuse
                if refuse:
                    error = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown"
                             b"</Code><Message>Please reduce your request rate.</Message></Error>")
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    self.wfile.write(error)
                    return
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for name, value in resp.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                # A HEAD answer's length is the object's, not that of its (empty) body.
                self.send_header("Content-Length", resp.getheader("Content-Length", "0")
                                 if self.command == "HEAD" else str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _relay

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


def slow_down_front(upstream: str, failures: int) -> Any:
    """SlowDownFront as a context manager."""
    from contextlib import closing

    return closing(SlowDownFront(upstream, failures))


def make_locked_bucket(s3, name: str, days: int = 14) -> None:  # type: ignore[no-untyped-def]
    """What modules/backup-bucket makes (minus the TLS-only policy, which moto reads as a plain
    deny of every request, see TOOLCHAIN.md): versioning + default GOVERNANCE retention."""
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": days}},
    })


def config_for(bucket: str, tang_urls: list[str], threshold: int = 1,
               schedule: str = "daily") -> GuestConfig:
    """The blueprint's guest configuration for one instance group with a volume at /srv/data."""
    return backup_config(
        endpoint=SITE_ENDPOINT, bucket=bucket, schedule=schedule,
        keep={"daily": 7, "weekly": 4, "monthly": 12}, paths=["/srv/data"],
        tang_servers=tang_urls, threshold=threshold, source_site="sto1",
    )


class Instance:
    """An instance's filesystem in a temporary root with the generated files installed.

    The scripts run for real (their shebang, real restic/clevis); only the root, the hostname
    and the S3 endpoint (http on loopback, test-only) are redirected through the environment.
    """

    def __init__(self, root: Path, host: str, endpoint: str, config: GuestConfig) -> None:
        self.root = root
        self.host = host
        self.endpoint = endpoint
        root.mkdir(parents=True)
        for path, content, mode in config.files:
            target = self.path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
            target.chmod(int(mode, 8))
        self.volume = self.path("/srv/data")
        self.volume.mkdir(parents=True)
        self.mounted = False

    def path(self, guest_path: str) -> Path:
        return self.root / guest_path.lstrip("/")

    def mount_volume(self) -> None:
        """A tmpfs stands in for the LUKS volume: the script insists on a real mount point."""
        subprocess.run([require("mount"), "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs",
                        str(self.volume)], check=True)
        self.mounted = True

    def unmount_volume(self) -> None:
        if self.mounted:
            subprocess.run(["umount", str(self.volume)], check=True)
            self.mounted = False

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "RESTIC_", "SSB_", "JOURNAL_STREAM"))}
        env.update({
            "SSB_BACKUP_ROOT": str(self.root),
            "SSB_BACKUP_HOST": self.host,
            "SSB_BACKUP_ENDPOINT": self.endpoint,
            # Each instance its own restic cache (as on a real instance).
            "HOME": str(self.root / "root"),
        })
        env.update(extra)
        return env

    def run(self, program: str, *args: str, stdin: str | None = None,
            timeout: float = 120, **extra_env: str) -> subprocess.CompletedProcess[str]:
        """Run an installed command (/usr/local/sbin/PROGRAM) of this instance."""
        for tool in ("restic", "clevis", "jose", "curl"):
            require(tool)
        started = time.monotonic()
        proc = subprocess.run(
            [str(self.path(f"/usr/local/sbin/{program}")), *args],
            input=stdin if stdin is not None else "", capture_output=True, text=True,
            env=self.env(**extra_env), timeout=timeout, check=False,
        )
        TIMINGS.append((f"{program} {' '.join(args)}".strip(), time.monotonic() - started))
        return proc

    def cleanup(self) -> None:
        self.unmount_volume()


def describe(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"


# --------------------------------------------------------------------------------------------
# Terraform, and the one apply against moto, started in the background.

MODULE = "modules/backup-bucket"
APPLY_FIXTURE = "tests/guest_backup/fixtures/apply_root"


def make_terraform(home: Path) -> Any:
    """A storage_harness.TerraformRunner with our own CLI config (offline mirror only) and
    empty AWS config files, so nothing from the user's environment leaks in."""
    from storage_harness import PLUGIN_MIRROR, TerraformRunner

    binary = require("terraform")
    if not (PLUGIN_MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        pytest.fail(f"no hashicorp/aws provider in the filesystem mirror {PLUGIN_MIRROR}")
    home.mkdir(parents=True, exist_ok=True)
    (home / "terraform.rc").write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{PLUGIN_MIRROR}"\n  }}\n}}\n'
    )
    (home / "aws-config").write_text("")
    (home / "aws-credentials").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "AWS_"))}
    env.update({
        "TF_CLI_CONFIG_FILE": str(home / "terraform.rc"), "CHECKPOINT_DISABLE": "1",
        "TF_IN_AUTOMATION": "1", "TF_INPUT": "0",
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        **FAKE_AWS_ENV,
    })
    return TerraformRunner(binary=binary, env=env, timings=TIMINGS)


class BackgroundApply:
    """`terraform apply` of the fixture root against its own moto_server, in a thread.

    The apply takes about 75 s, nearly all of it the aws provider polling the lifecycle
    configuration; running it while the other tests run keeps this directory near 2 minutes.
    """

    def __init__(self, work: Path) -> None:
        import threading
        from contextlib import ExitStack

        self.work = work
        self.root = work / APPLY_FIXTURE
        self.terraform = make_terraform(work / "tf-cli")
        self._stack = ExitStack()
        self.endpoint = self._stack.enter_context(moto_server(work))
        self.error: str | None = None
        self.outputs: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._apply, daemon=True)
        self._thread.start()

    def _apply(self) -> None:
        tf = self.terraform
        try:
            tf.copy_into(self.work, [MODULE, APPLY_FIXTURE])
            for args, label in (
                (["init", "-input=false", "-no-color"], "init (apply root)"),
                (["apply", "-auto-approve", "-input=false", "-no-color",
                  "-var", f"s3_endpoint={self.endpoint}"],
                 "apply backup-bucket (6 resources, in the background)"),
            ):
                proc = tf(args, self.root, label=label)
                if proc.returncode != 0:
                    self.error = tf.describe(proc)
                    return
            self.applied = proc.stdout
            out = tf(["output", "-json", "-no-color"], self.root)
            self.outputs = {k: v["value"] for k, v in json.loads(out.stdout).items()}
        except BaseException as exc:  # reported by the fixture that waits for us
            self.error = repr(exc)

    def wait(self) -> BackgroundApply:
        self._thread.join(timeout=600)
        if self._thread.is_alive():
            pytest.fail("terraform apply did not finish within 10 minutes")
        if self.error:
            pytest.fail(f"terraform apply against moto failed:\n{self.error}")
        return self

    def close(self) -> None:
        self._thread.join(timeout=600)
        self._stack.close()
