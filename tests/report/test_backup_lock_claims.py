"""What the backup bucket's lock holds against someone with the project's S3 keys, shown on a
real S3 API (moto_server): the claims BACKUP.md, the module README and the report make.

Every key of a Safespring project is the bucket owner (the instances hold one), so the tests
use one client for the owner, the operator and the attacker alike.
- COMPLIANCE: a version under its lock cannot be removed by anyone, bypass header or not.
- GOVERNANCE: the same keys remove it with the bypass header.
- Either mode: a version whose lock has passed is removed for good by the same keys; this is
  what happens to restic's older packs, which recent snapshots still need.
- A delete without a version only adds a marker: undone by deleting the marker.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.moto_s3 import FAKE_AWS_ENV, moto_server


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import boto3
    from botocore.config import Config

    with moto_server(tmp_path_factory.mktemp("moto-lock")) as endpoint:
        yield boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id=FAKE_AWS_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def _bucket(s3: Any, mode: str) -> str:
    """What modules/backup-bucket makes: Object Lock, versioning, a default retention."""
    name = f"backup-{mode.lower()}-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, "Days": 14}}})
    return name


def _remove(s3: Any, bucket: str, key: str, version: str) -> str:
    """Delete one version for good, with the bypass header: "removed" or the error code."""
    try:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=version,
                         BypassGovernanceRetention=True)
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "removed"


def test_compliance_keeps_a_locked_version_from_the_project_keys(s3: Any) -> None:
    bucket = _bucket(s3, "COMPLIANCE")
    version = s3.put_object(Bucket=bucket, Key="app-1/keys/k", Body=b"key")["VersionId"]
    head = s3.head_object(Bucket=bucket, Key="app-1/keys/k", VersionId=version)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert _remove(s3, bucket, "app-1/keys/k", version) == "AccessDenied"
    assert s3.head_object(Bucket=bucket, Key="app-1/keys/k", VersionId=version)


def test_governance_lets_the_project_keys_remove_a_locked_version(s3: Any) -> None:
    bucket = _bucket(s3, "GOVERNANCE")
    version = s3.put_object(Bucket=bucket, Key="app-1/keys/k", Body=b"key")["VersionId"]
    assert _remove(s3, bucket, "app-1/keys/k", version) == "removed"


@pytest.mark.parametrize("mode", ["COMPLIANCE", "GOVERNANCE"])
def test_a_version_past_its_lock_is_removed_for_good(s3: Any, mode: str) -> None:
    """A version written long ago (here: locked for 2 seconds) is no longer protected: the
    restic key file or a pack a recent snapshot reuses can be deleted by the instance's keys."""
    bucket = _bucket(s3, mode)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    version = s3.put_object(Bucket=bucket, Key="app-1/data/old-pack", Body=b"pack",
                            ObjectLockMode=mode, ObjectLockRetainUntilDate=until)["VersionId"]
    if mode == "COMPLIANCE":  # (GOVERNANCE gives way to the bypass header at once)
        assert _remove(s3, bucket, "app-1/data/old-pack", version) == "AccessDenied"
    else:
        s3.head_object(Bucket=bucket, Key="app-1/data/old-pack", VersionId=version)
    time.sleep(3)  # waits for the lock to pass, not a duration under test
    assert _remove(s3, bucket, "app-1/data/old-pack", version) == "removed"
    listing = s3.list_object_versions(Bucket=bucket, Prefix="app-1/data/old-pack")
    assert not listing.get("Versions") and not listing.get("DeleteMarkers")


def test_a_plain_delete_only_adds_a_marker(s3: Any) -> None:
    bucket = _bucket(s3, "COMPLIANCE")
    version = s3.put_object(Bucket=bucket, Key="app-1/config", Body=b"c")["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key="app-1/config")["VersionId"]
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="app-1/config")
    s3.delete_object(Bucket=bucket, Key="app-1/config", VersionId=marker)  # undo
    assert s3.head_object(Bucket=bucket, Key="app-1/config")["VersionId"] == version
