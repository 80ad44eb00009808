"""End-to-end: apply both storage modules against a real S3 API (moto_server) and read back.

One apply cycle for the whole file (about a minute: the aws provider polls each lifecycle
configuration until it has read it back ten times). The tests below run in file order: read
back, then a second plan that must be empty, then destroy.

Known differences between moto and Safespring's Ceph RGW that shape this test
(TOOLCHAIN.md, "A real S3 API for apply tests"):
- moto ignores policy conditions, so the TLS-only policy denies every object request (the
  endpoint is plain HTTP anyway); no test object is written, which also keeps the Object Lock
  bucket empty so destroy works (moto refuses to touch Object Lock on a non-empty bucket);
- a lifecycle `filter {}` reads back as `Prefix ""`, a default retention with an extra `Years: 0`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from storage_harness import TerraformRunner

FIXTURE = "tests/storage/fixtures/apply_root"
BACKUPS = "ssb-test-backups"
STATE = "ssb-test-tfstate"


@dataclass
class Deployment:
    """What the module-scoped apply produced, for the read-back tests."""

    root: Path
    endpoint: str
    outputs: dict[str, Any]


@pytest.fixture(scope="module")
def deployment(
    terraform: TerraformRunner, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    """Init and apply the fixture root once for the whole module."""
    work = tmp_path_factory.mktemp("storage-apply")
    terraform.copy_into(work, ["modules/bucket", "modules/state-bucket", FIXTURE])
    root = work / FIXTURE
    var = f"s3_endpoint={s3_endpoint}"

    init = terraform(["init", "-input=false", "-no-color"], root, label="init (apply root)")
    assert init.returncode == 0, terraform.describe(init)

    apply = terraform(
        ["apply", "-auto-approve", "-input=false", "-no-color", "-var", var],
        root,
        label="apply (2 buckets, 11 resources)",
    )
    assert apply.returncode == 0, terraform.describe(apply)
    assert "Apply complete! Resources: 11 added, 0 changed, 0 destroyed." in apply.stdout

    out = terraform(["output", "-json", "-no-color"], root, label="output")
    assert out.returncode == 0, terraform.describe(out)
    outputs = {name: value["value"] for name, value in json.loads(out.stdout).items()}

    yield Deployment(root=root, endpoint=s3_endpoint, outputs=outputs)
    # No teardown destroy: test_destroy does it and asserts it; the moto_server fixture then
    # stops the server, which discards anything left over.


def test_outputs_name_the_buckets(deployment: Deployment) -> None:
    """Callers get id, arn and name; the aws provider uses the bucket name as id."""
    assert deployment.outputs["backups"] == {
        "id": BACKUPS,
        "name": BACKUPS,
        "arn": f"arn:aws:s3:::{BACKUPS}",
    }
    assert deployment.outputs["state"] == {
        "id": STATE,
        "name": STATE,
        "arn": f"arn:aws:s3:::{STATE}",
    }


@pytest.mark.parametrize("bucket", [BACKUPS, STATE])
def test_versioning_is_enabled(bucket: str, deployment: Deployment, s3_client: Any) -> None:
    """Art. 32(1)(c): overwritten or deleted objects stay recoverable until lifecycle ends them."""
    assert s3_client.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_backup_bucket_has_default_object_lock(deployment: Deployment, s3_client: Any) -> None:
    """Art. 32(1)(c): backups are write-once for object_lock.days (COMPLIANCE, 35 days)."""
    config = s3_client.get_object_lock_configuration(Bucket=BACKUPS)["ObjectLockConfiguration"]
    assert config["ObjectLockEnabled"] == "Enabled"
    retention = config["Rule"]["DefaultRetention"]
    assert retention["Mode"] == "COMPLIANCE"
    assert retention["Days"] == 35
    assert retention.get("Years", 0) == 0  # moto adds "Years: 0"


def test_state_bucket_has_no_object_lock(deployment: Deployment, s3_client: Any) -> None:
    """State is rewritten on every apply and the lock file deleted; a WORM lock would fight that."""
    with pytest.raises(ClientError) as excinfo:
        s3_client.get_object_lock_configuration(Bucket=STATE)
    assert excinfo.value.response["Error"]["Code"] == "ObjectLockConfigurationNotFoundError"


@pytest.mark.parametrize("bucket", [BACKUPS, STATE])
def test_public_access_is_blocked(bucket: str, deployment: Deployment, s3_client: Any) -> None:
    """Art. 25(2), 32(1)(b): no ACL or policy can make the bucket public."""
    block = s3_client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }


@pytest.mark.parametrize("bucket", [BACKUPS, STATE])
def test_policy_denies_plain_http(bucket: str, deployment: Deployment, s3_client: Any) -> None:
    """Art. 5(1)(f), 32(1)(b): every S3 action on the bucket and its objects requires TLS."""
    policy = json.loads(s3_client.get_bucket_policy(Bucket=bucket)["Policy"])
    arn = f"arn:aws:s3:::{bucket}"
    denies = [
        s
        for s in policy["Statement"]
        if s["Effect"] == "Deny"
        and s["Principal"] == "*"
        and s["Action"] == "s3:*"
        and sorted(s["Resource"]) == sorted([arn, f"{arn}/*"])
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denies) == 1, policy


def test_bucket_policy_is_enforced_on_objects(deployment: Deployment, s3_client: Any) -> None:
    """The deny statement is in force on objects, not just stored.

    Limit of the stand-in: moto ignores policy conditions, so it denies every object request
    on a bucket with this policy; that the deny is tied to aws:SecureTransport=false is checked
    by test_policy_denies_plain_http. This client talks plain HTTP, so on real S3 the request is
    refused just the same. A control bucket without the policy accepts the same upload, which
    shows the 403 comes from the policy. Nothing is written to the locked bucket, so it stays
    empty and destroy works.
    """
    with pytest.raises(ClientError) as excinfo:
        s3_client.put_object(Bucket=BACKUPS, Key="patient-export.csv", Body=b"name;id\n")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    control = "ssb-test-control-no-policy"
    s3_client.create_bucket(Bucket=control)
    s3_client.put_object(Bucket=control, Key="patient-export.csv", Body=b"name;id\n")
    s3_client.delete_object(Bucket=control, Key="patient-export.csv")
    s3_client.delete_bucket(Bucket=control)


def _single_rule(s3_client: Any, bucket: str) -> dict[str, Any]:
    rules = s3_client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert len(rules) == 1, rules
    rule = rules[0]
    assert rule["Status"] == "Enabled"
    # `filter {}` (whole bucket) reads back as an empty prefix.
    assert rule.get("Filter", {}) in ({}, {"Prefix": ""}), rule
    return rule


def test_backup_lifecycle_limits_storage(deployment: Deployment, s3_client: Any) -> None:
    """Art. 5(1)(e): current objects expire after retention_days, old versions after theirs."""
    rule = _single_rule(s3_client, BACKUPS)
    assert rule["ID"] == "storage-limitation"
    assert rule["Expiration"] == {"Days": 400}
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 3}
    assert "Transitions" not in rule  # Safespring has only the STANDARD storage class


def test_state_lifecycle_never_expires_current_state(
    deployment: Deployment, s3_client: Any
) -> None:
    """Current state has no expiration; only old versions and orphaned delete markers go."""
    rule = _single_rule(s3_client, STATE)
    assert rule["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 45
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


def test_evidence_tags_are_on_the_bucket(deployment: Deployment, s3_client: Any) -> None:
    """Art. 5(2), 30(1)(g): the bucket itself says what it holds and which measures apply."""
    tags = {t["Key"]: t["Value"] for t in s3_client.get_bucket_tagging(Bucket=BACKUPS)["TagSet"]}
    assert tags["ssb_classification"] == "personal"
    assert "object-lock" in tags["ssb_measures"].split()


def test_second_plan_with_refresh_has_no_changes(
    deployment: Deployment, terraform: TerraformRunner
) -> None:
    """No perpetual diff: a refreshed plan against the live server finds nothing to do.

    The endpoint is reachable, so a real refresh is safe here (offline it would be misread as
    "bucket deleted", see TOOLCHAIN.md).
    """
    proc = terraform(
        [
            "plan",
            "-detailed-exitcode",
            "-input=false",
            "-no-color",
            "-var",
            f"s3_endpoint={deployment.endpoint}",
        ],
        deployment.root,
        label="plan -detailed-exitcode (refresh)",
    )
    assert proc.returncode == 0, terraform.describe(proc)
    assert "No changes." in proc.stdout


def test_destroy_removes_both_buckets(
    deployment: Deployment, terraform: TerraformRunner, s3_client: Any
) -> None:
    """Destroy works on empty buckets (force_destroy stays false: data is never deleted by it)."""
    proc = terraform(
        [
            "destroy",
            "-auto-approve",
            "-input=false",
            "-no-color",
            "-var",
            f"s3_endpoint={deployment.endpoint}",
        ],
        deployment.root,
        label="destroy",
    )
    assert proc.returncode == 0, terraform.describe(proc)
    assert "Destroy complete! Resources: 11 destroyed." in proc.stdout
    names = {b["Name"] for b in s3_client.list_buckets()["Buckets"]}
    assert not names & {BACKUPS, STATE}, names
