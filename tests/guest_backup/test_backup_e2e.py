"""End-to-end: the generated guest files, run for real against restic, clevis, a real Tang
server on loopback and a real S3 API (moto_server) with an Object-Locked, versioned bucket.

Stand-ins, and why: the instance is a temporary root (SSB_BACKUP_ROOT), the LUKS volume a tmpfs
mounted at <root>/srv/data, the S3 endpoint http://127.0.0.1 (SSB_BACKUP_ENDPOINT, accepted by
the script only on loopback). systemd does not run here: the commands the timers start are run
directly. Everything else is the real thing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from generator.features.backup import restore_instructions
from tests.guest_backup.backup_harness import (
    SITE_ENDPOINT,
    Instance,
    TangServer,
    config_for,
    describe,
    make_tang,
    require,
    slow_down_front,
)

KEY_DIR = "/etc/safespring-blueprints/backup"
ACCESS, SECRET = "SSBTESTACCESSKEY0001", "ssb/test+secret-key-that-must-never-leak"


def _ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, describe(proc)
    return proc


def _fail(proc: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert proc.returncode != 0, describe(proc)
    assert fragment in " ".join(proc.stderr.split()), describe(proc)


def _decrypt(path: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([require("clevis"), "decrypt"], input=path.read_bytes(),
                          capture_output=True, timeout=60, check=False)


def _ready(inst: Instance) -> None:
    """First boot (key), then the operator hands over the S3 keys."""
    _ok(inst.run("ssb-backup", "init-key"))
    _ok(inst.run("ssb-backup-credentials", stdin=f"{ACCESS}\n{SECRET}\n"))


def _write_data(inst: Instance, seed: int) -> dict[str, bytes]:
    rng = __import__("random").Random(seed)
    files = {
        "patients.db": rng.randbytes(300_000),
        "uploads/scan-0001.pdf": rng.randbytes(50_000),
        "uploads/empty": b"",
    }
    for name, content in files.items():
        target = inst.volume / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return files


def _restored(target: Path, inst_root: Path) -> Path:
    """restic restores full paths below the target: <target>/<instance root>/srv/data."""
    return target / str(inst_root).lstrip("/") / "srv" / "data"


def _assert_same(files: dict[str, bytes], where: Path) -> None:
    for name, content in files.items():
        assert (where / name).read_bytes() == content, name


def test_first_boot_key_is_random_tang_bound_and_never_printed(
    instance_factory: Callable[..., Instance], tang: TangServer
) -> None:
    inst = instance_factory()
    proc = _ok(inst.run("ssb-backup", "init-key"))
    jwe = inst.path(f"{KEY_DIR}/restic-password.jwe")
    assert jwe.stat().st_mode & 0o777 == 0o600
    first = jwe.read_bytes()
    assert first.count(b".") == 4  # a compact JWE
    password = _decrypt(jwe).stdout
    assert re.fullmatch(rb"[0-9a-f]{64}", password), "256 random bits, hex"
    assert password.decode() not in proc.stdout + proc.stderr
    assert password not in first

    _ok(inst.run("ssb-backup", "init-key"))  # idempotent: never a second key
    assert jwe.read_bytes() == first

    tang.stop()
    assert _decrypt(jwe).returncode != 0, "without Tang the password is unrecoverable"


def test_without_credentials_backups_fail_closed_and_loudly(
    instance_factory: Callable[..., Instance], s3: Any, bucket: str
) -> None:
    inst = instance_factory()
    _ok(inst.run("ssb-backup", "init-key"))
    # Under systemd (JOURNAL_STREAM set) the error carries syslog priority 3 (err).
    proc = inst.run("ssb-backup", "run", JOURNAL_STREAM="8:12345")
    _fail(proc, "no S3 credentials stored: backups are NOT running")
    assert re.search(r"^<3>ssb-backup: no S3 credentials", proc.stderr, re.M), proc.stderr
    _fail(inst.run("ssb-backup-check"), "ssb-backup-credentials")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0, "nothing uploaded"


def test_backup_check_restore_round_trip_and_tang_down(
    instance_factory: Callable[..., Instance], s3: Any, bucket: str, tang: TangServer
) -> None:
    inst = instance_factory()
    _ok(inst.run("ssb-backup", "init-key"))
    proc = _ok(inst.run("ssb-backup-credentials", stdin=f"{ACCESS} {SECRET}\n"))
    stored = inst.path(f"{KEY_DIR}/s3-credentials.jwe")
    assert stored.stat().st_mode & 0o777 == 0o600
    assert SECRET.encode() not in stored.read_bytes()
    assert SECRET not in proc.stdout + proc.stderr
    assert json.loads(_decrypt(stored).stdout) == {"access_key_id": ACCESS,
                                                   "secret_access_key": SECRET}

    _fail(inst.run("ssb-backup-check"), "no snapshot of app-1 exists")

    files = _write_data(inst, seed=1)
    # A pre-backup hook (e.g. a database dump into the volume) runs before restic.
    hook = inst.path(f"{KEY_DIR}/pre-backup")
    hook.write_text(f"#!/bin/sh\necho dump-of-the-database > {inst.volume}/dump.sql\n")
    hook.chmod(0o700)
    proc = _ok(inst.run("ssb-backup", "run"))
    assert SECRET not in proc.stdout + proc.stderr

    # The key copy sits next to the repository, identical to the instance's JWE.
    local = inst.path(f"{KEY_DIR}/restic-password.jwe").read_bytes()
    remote = s3.get_object(Bucket=bucket, Key="app-1.restic-password.jwe")["Body"].read()
    assert remote.strip() == local.strip()
    head = s3.head_object(Bucket=bucket, Key="app-1/config")
    assert head["ObjectLockMode"] == "GOVERNANCE"  # every object gets the default lock

    check = _ok(inst.run("ssb-backup-check"))
    assert "ok: newest snapshot of app-1" in check.stderr

    target = inst.root.parent / "restored"
    proc = _ok(inst.run("ssb-restore", "latest", str(target)))
    assert "is not on a LUKS volume: the restored data is stored unencrypted" in proc.stderr
    where = _restored(target, inst.root)
    _assert_same(files, where)
    # Without a target: onto the volume, in a directory the next backups skip.
    _ok(inst.run("ssb-restore", "latest"))
    default = inst.volume / ".ssb-restore"
    _assert_same(files, _restored(default / "app-1-latest", inst.root))
    assert (default / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172")
    assert (where / "dump.sql").read_text() == "dump-of-the-database\n"
    etc = target / str(inst.root).lstrip("/") / "etc/safespring-blueprints/backup/config.json"
    assert json.loads(etc.read_text())["bucket"] == bucket  # /etc is backed up too

    _fail(inst.run("ssb-restore", "latest", str(target)), "is not empty")

    # Tang down: nothing decrypts, so no backup, no restore, and the check fails.
    tang.stop()
    _fail(inst.run("ssb-backup", "run"), "cannot decrypt the S3 credentials")
    elsewhere = inst.root.parent / "restored-without-tang"
    _fail(inst.run("ssb-restore", "latest", str(elsewhere)), "cannot decrypt")
    assert not any(elsewhere.rglob("patients.db"))
    _fail(inst.run("ssb-backup-check"), "Tang servers")
    tang.start()  # same port, same keys: everything works again
    _ok(inst.run("ssb-backup-check"))


def _script(inst: Instance) -> ModuleType:
    path = inst.path("/usr/local/sbin/ssb-backup")
    loader = importlib.machinery.SourceFileLoader("ssb_backup_installed", str(path))
    spec = importlib.util.spec_from_loader("ssb_backup_installed", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_check_fails_when_the_newest_snapshot_is_too_old(
    instance_factory: Callable[..., Instance], monkeypatch: pytest.MonkeyPatch
) -> None:
    """daily schedule: a snapshot older than 48 h fails the check; a fresh backup fixes it."""
    inst = instance_factory()
    _ready(inst)
    _write_data(inst, seed=3)
    for key, value in inst.env().items():
        monkeypatch.setenv(key, value)
    script = _script(inst)
    config = script.load_config(str(inst.path(f"{KEY_DIR}/config.json")))
    creds = script.load_credentials(config)
    local = script.ensure_key(config)
    script.prepare_repository(config, "app-1", script.S3(config["endpoint"], config["bucket"],
                                                          *creds), local)
    repo = script.Repo(config, "app-1", creds, script.state_file("restic-password.jwe"))
    old = (dt.datetime.now() - dt.timedelta(hours=49)).strftime("%Y-%m-%d %H:%M:%S")
    repo.must(["backup", "--host", "app-1", "--time", old, str(inst.volume)], "old backup")

    _fail(inst.run("ssb-backup-check"), "more than 2 days, 0:00:00 (twice the daily schedule)")
    _ok(inst.run("ssb-backup", "run"))
    _ok(inst.run("ssb-backup-check"))


def test_restore_on_a_new_instance_needs_only_the_bucket_and_tang(
    instance_factory: Callable[..., Instance], s3: Any, bucket: str, s3_endpoint: str,
    tmp_path: Path,
) -> None:
    old = instance_factory("app-1")
    _ready(old)
    files = _write_data(old, seed=4)
    _ok(old.run("ssb-backup", "run"))
    old_root = old.root
    old.cleanup()
    shutil.rmtree(old_root)  # the instance and its disks are gone

    # A new instance of the same blueprint: its own (different) key from first boot.
    new = instance_factory("app-2")
    _ready(new)
    target = tmp_path / "restored-on-new"
    _ok(new.run("ssb-restore", "--from-host", "app-1", "latest", str(target)))
    _assert_same(files, _restored(target, old_root))

    # A replacement with the SAME hostname continues the old repository on its own: its new key
    # never protected anything, and the bucket's copy is bound to our Tang servers and opens.
    same = instance_factory("app-1")
    _ready(same)
    _write_data(same, seed=5)
    ran = _ok(same.run("ssb-backup", "run"))
    assert "continuing repository" in ran.stderr
    assert not same.path(KEY_DIR + "/restic-password.unused").exists()
    listing = _ok(same.run("ssb-backup", "snapshots"))
    assert listing.stdout.count("app-1") >= 2, listing.stdout
    _ok(same.run("ssb-backup-check"))

    # A key that protects a repository is never switched silently: a different key copy in the
    # bucket (two instances claiming one hostname) stops the backup until someone decides.
    twin = instance_factory("app-1")
    _ready(twin)
    twin.path(KEY_DIR + "/restic-password.unused").unlink()
    _fail(twin.run("ssb-backup", "run"), "created with a different key")
    _ok(twin.run("ssb-backup", "adopt-key"))
    assert list(twin.path(KEY_DIR).glob("restic-password.jwe.replaced-*"))

    # The README's manual path (no blueprint tools): fetch the JWE, clevis as password command.
    jwe = tmp_path / "key.jwe"
    jwe.write_bytes(s3.get_object(Bucket=bucket, Key="app-1.restic-password.jwe")["Body"].read())
    readme = restore_instructions(endpoint=SITE_ENDPOINT, bucket=bucket)
    line = next(x for x in readme.splitlines() if x.startswith("export RESTIC_PASSWORD_COMMAND"))
    manual = tmp_path / "manual"
    script = "\n".join([
        "set -eu",
        f"cd {tmp_path}",
        line,
        f"export RESTIC_REPOSITORY=s3:{s3_endpoint}/{bucket}/app-1",
        f"export AWS_ACCESS_KEY_ID={ACCESS} AWS_SECRET_ACCESS_KEY='{SECRET}'",
        f"restic -o s3.bucket-lookup=path restore latest --target {manual} --host app-1",
    ])
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items()
                               if not k.startswith(("AWS_", "RESTIC_"))} | {"HOME": str(tmp_path)},
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert (_restored(manual, same.root) / "patients.db").is_file()


def test_prune_under_object_lock_and_recovery_after_a_mass_delete(
    instance_factory: Callable[..., Instance], s3: Any, bucket: str
) -> None:
    """restic's deletes become delete markers: prune works while locked versions survive, and an
    attacker's delete-everything is undone by removing the delete markers."""
    inst = instance_factory()
    _ready(inst)
    _write_data(inst, seed=6)
    _ok(inst.run("ssb-backup", "run"))
    files = _write_data(inst, seed=7)  # all content changes: the first packs become garbage
    _ok(inst.run("ssb-backup", "run"))  # keep daily=7: the same day's older snapshot is forgotten
    _ok(inst.run("ssb-backup", "maintain"))  # prune + check --read-data-subset

    listing = s3.list_object_versions(Bucket=bucket, Prefix="app-1/data/")
    markers = listing.get("DeleteMarkers", [])
    old_versions = [v for v in listing["Versions"] if not v["IsLatest"]]
    assert markers and old_versions, "prune deleted packs: delete markers over kept versions"
    victim = old_versions[0]
    head = s3.head_object(Bucket=bucket, Key=victim["Key"], VersionId=victim["VersionId"])
    assert head["ObjectLockMode"] == "GOVERNANCE"
    with pytest.raises(ClientError) as excinfo:
        s3.delete_object(Bucket=bucket, Key=victim["Key"], VersionId=victim["VersionId"])
    assert excinfo.value.response["Error"]["Code"] == "AccessDenied"

    # The attack: delete every current object of the instance, key copy included.
    time.sleep(1.1)
    attack = dt.datetime.now(dt.UTC)
    current = s3.list_objects_v2(Bucket=bucket)["Contents"]
    for obj in current:
        s3.delete_object(Bucket=bucket, Key=obj["Key"])
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    target = inst.root.parent / "after-attack"
    _fail(inst.run("ssb-restore", "latest", str(target)), "no key copy")

    # Recovery: remove the delete markers newer than the attack.
    for marker in s3.list_object_versions(Bucket=bucket).get("DeleteMarkers", []):
        if marker["LastModified"] >= attack.replace(microsecond=0):
            s3.delete_object(Bucket=bucket, Key=marker["Key"], VersionId=marker["VersionId"])
    _ok(inst.run("ssb-restore", "latest", str(target)))
    _assert_same(files, _restored(target, inst.root))

    # The limit of GOVERNANCE, documented in modules/backup-bucket: the bypass header works.
    s3.delete_object(Bucket=bucket, Key=victim["Key"], VersionId=victim["VersionId"],
                     BypassGovernanceRetention=True)


def test_unmounted_volume_or_unsafe_hook_stops_the_backup(
    instance_factory: Callable[..., Instance], s3: Any, bucket: str
) -> None:
    inst = instance_factory(mount=False)
    _ready(inst)
    _fail(inst.run("ssb-backup", "run"), "is not mounted: refusing to back up an empty mountpoint")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0

    inst.mount_volume()
    hook = inst.path(f"{KEY_DIR}/pre-backup")
    hook.write_text("#!/bin/sh\nexit 0\n")
    hook.chmod(0o777)  # anyone could put code here that would run as root
    _fail(inst.run("ssb-backup", "run"), "not group/world-writable")
    hook.chmod(0o700)
    hook.write_text("#!/bin/sh\nexit 4\n")
    _fail(inst.run("ssb-backup", "run"), "pre-backup hook")
    assert s3.list_objects_v2(Bucket=bucket, Prefix="app-1/snapshots/").get("KeyCount", 0) == 0


DRILL_STATE = "/var/lib/ssb-backup/restore-drill.json"


def _drill(inst: Instance, **extra_env: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = inst.run("ssb-backup", "drill", **extra_env)
    record = json.loads(inst.path(DRILL_STATE).read_text("utf-8"))
    assert inst.path(DRILL_STATE).stat().st_mode & 0o777 == 0o600
    assert not (inst.volume / ".ssb-restore-drill").exists(), "the drill removes what it restored"
    return proc, record


def _verify_says(inst: Instance, monkeypatch: pytest.MonkeyPatch) -> Any:
    """ssb-verify's reading of the drill's record (the check of the backup-restic measure)."""
    from ssb_guest import verify

    monkeypatch.setenv("SSB_DRILL_STATE", str(inst.path(DRILL_STATE)))
    return verify.CHECKS["backup-restic"]({})


def test_the_restore_drill_restores_verifies_and_records_both_ways(
    instance_factory: Callable[..., Instance], s3: Any, bucket: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inst = instance_factory()
    _ready(inst)
    assert _verify_says(inst, monkeypatch).result == "unknown"  # no drill yet
    proc, record = _drill(inst)
    _fail(proc, "restore drill FAILED: no key copy")  # nothing backed up yet
    assert record["result"] == "fail" and record["format"] == "ssb-restore-drill/1"

    files = _write_data(inst, seed=11)
    _ok(inst.run("ssb-backup", "run"))
    proc, record = _drill(inst)
    _ok(proc)
    assert record["result"] == "ok", record
    assert "restored every file of snapshot" in record["detail"]
    assert record["files"] == record["files_total"] > len(files)  # the volume and /etc
    assert record["bytes"] == record["bytes_total"] >= sum(map(len, files.values()))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["recovery_point"])
    assert record["recovery_point"] <= record["at"]  # the snapshot's time, before the drill
    said = _verify_says(inst, monkeypatch)
    assert said.result == "ok" and "restic verified the content" in said.detail, said.detail

    # Larger than the budget: a random sample that fits it, checked the same way.
    proc, record = _drill(inst, SSB_DRILL_BUDGET="100000")
    _ok(proc)
    assert "a random sample" in record["detail"], record
    assert 0 < record["files"] < record["files_total"] and record["bytes"] <= 100000

    # Damaged backups: every pack of the repository overwritten (a new version of each object
    # in the versioned bucket). The drill fails, says so, and ssb-verify reports FAIL.
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix="app-1/data/")["Contents"]:
        junk = os.urandom(obj["Size"])
        md5 = base64.b64encode(hashlib.md5(junk).digest()).decode()
        s3.put_object(Bucket=bucket, Key=obj["Key"], Body=junk, ContentMD5=md5)
    proc, record = _drill(inst)
    _fail(proc, "restore drill FAILED")
    assert record["result"] == "fail" and "restic restore --verify failed" in record["detail"]
    said = _verify_says(inst, monkeypatch)
    assert said.result == "fail" and "failed" in said.detail, said.detail

    # Never onto the root disk: with the volume not mounted the drill refuses.
    inst.unmount_volume()
    proc, record = _drill(inst)
    _fail(proc, "is not mounted: the drill restores only onto the encrypted volume")


def test_a_planted_key_copy_bound_to_other_tang_servers_is_refused(
    instance_factory: Callable[..., Instance], s3: Any, bucket: str, tmp_path: Path,
) -> None:
    """Someone who can write to the bucket swaps the key copy for one bound to their own Tang:
    a replacement instance must not adopt it (its backups would be readable to them)."""
    old = instance_factory("app-7")
    _ready(old)
    _ok(old.run("ssb-backup", "run"))
    mallory = make_tang(tmp_path, "mallory").start()
    try:
        planted = subprocess.run(["clevis", "encrypt", "tang", json.dumps({"url": mallory.url}),
                                  "-y"], input=b"known to mallory", capture_output=True,
                                 check=True, timeout=60).stdout
    finally:
        mallory.close()
    s3.put_object(Bucket=bucket, Key="app-7.restic-password.jwe", Body=planted)
    replacement = instance_factory("app-7")
    _ready(replacement)
    _fail(replacement.run("ssb-backup", "run"), "that this instance does not use: refusing it")
    assert replacement.path(KEY_DIR + "/restic-password.unused").exists()


def test_the_s3_client_retries_what_the_endpoint_asks_to_retry(
    tmp_path: Path, s3_endpoint: str, s3: Any, bucket: str, tang: TangServer
) -> None:
    """Ceph RGW answers 503 SlowDown under load; the S3 client of the key copy (botocore, as
    the aws tools) waits and retries instead of failing the step. In front of the real S3 API,
    the first two requests are answered 503."""
    with slow_down_front(s3_endpoint, failures=2) as front:
        inst = Instance(tmp_path / "instance", "app-1", front.url, config_for(bucket, [tang.url]))
        inst.mount_volume()
        try:
            _ok(inst.run("ssb-backup", "init-key"))
            _ok(inst.run("ssb-backup-credentials", stdin=f"{ACCESS}\n{SECRET}\n"))
            assert front.refused == 2 and front.forwarded >= 1
            # The key copy goes up through the same client (restic has its own retries).
            _write_data(inst, seed=11)
            _ok(inst.run("ssb-backup", "run"))
        finally:
            inst.cleanup()
    key = s3.get_object(Bucket=bucket, Key="app-1.restic-password.jwe")["Body"].read()
    assert key.count(b".") == 4
