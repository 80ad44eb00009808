"""Data lost in place (evidence_inplace.py), rule by rule, on plan changes shaped as
`terraform show -json` writes them: each loss is named, and what keeps or adds protection is
not. The same rules on real plans: tests/test_rehearsal.py (the bundled example, its buckets on a
real S3 API) and tests/policies/test_data_at_risk.py."""

from __future__ import annotations

from typing import Any

import pytest

from generator.evidence.change import at_risk

BUCKET = {"bucket": "records", "force_destroy": False,
          "tags": {"ssb_classification": "personal-special"}}


def change(rtype: str, before: Any, after: Any, actions: list[str] | None = None,
           unknown: Any = None, name: str = "this") -> dict[str, Any]:
    if actions is None:
        actions = ["delete"] if after is None else ["create"] if before is None else ["update"]
    return {"address": f"{rtype}.{name}", "mode": "managed", "type": rtype, "name": name,
            "change": {"actions": actions, "before": before, "after": after,
                       "after_unknown": unknown or {}}}


def kept_bucket() -> dict[str, Any]:
    return change("aws_s3_bucket", BUCKET, BUCKET, ["no-op"], name="records")


def lifecycle(days: int | None, noncurrent: int | None = None, status: str = "Enabled") -> dict:
    rule: dict[str, Any] = {"id": "retention", "status": status, "expiration": [],
                            "noncurrent_version_expiration": []}
    if days is not None:
        rule["expiration"] = [{"days": days, "date": None}]
    if noncurrent is not None:
        rule["noncurrent_version_expiration"] = [{"noncurrent_days": noncurrent}]
    return {"bucket": "records", "rule": [rule]}


def lock(mode: str, days: int) -> dict:
    return {"bucket": "records", "rule": [{"default_retention": [{"mode": mode, "days": days,
                                                                  "years": None}]}]}


def versioning(status: str) -> dict:
    return {"bucket": "records", "versioning_configuration": [{"status": status}]}


TLS_ONLY = ('{"Version":"2012-10-17","Statement":[{"Sid":"tls","Effect":"Deny","Principal":"*",'
            '"Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}')
READ_ONLY = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
             '"Action":"s3:GetObject","Resource":"*"}]}')


def found(*changes: dict[str, Any]) -> dict[str, str]:
    return {r.address: r.describe() for r in at_risk({"resource_changes": [kept_bucket(), *changes]})}


@pytest.mark.parametrize(("before", "after", "expect"), [
    (lifecycle(2555, 30), lifecycle(1, 30), "current objects expire after 1 day (was after 2555 days)"),
    (lifecycle(2555, 30), lifecycle(2555, 1), "earlier versions expire after 1 day (was after 30 days)"),
    (lifecycle(2555, 30, status="Disabled"), lifecycle(2555, 30),
     "current objects expire after 2555 days (was never)"),
    (None, lifecycle(365), "current objects expire after 365 days (was never)"),
])
def test_a_shorter_expiry_is_a_loss(before: Any, after: Any, expect: str) -> None:
    risk = found(change("aws_s3_bucket_lifecycle_configuration", before, after))
    text = risk["aws_s3_bucket_lifecycle_configuration.this"]
    assert expect in text and "the bucket records holding personal-special data" in text
    assert "--allow-replace aws_s3_bucket_lifecycle_configuration.this" in text


@pytest.mark.parametrize(("before", "after"), [
    (lifecycle(365, 30), lifecycle(2555, 30)),  # longer
    (lifecycle(365, 30), lifecycle(365, 30, status="Disabled")),  # expires nothing any more
    (lifecycle(365, 30), None),  # lifecycle removed: keeps data longer (CKV_GDPR_10 judges that)
])
def test_a_longer_or_removed_expiry_is_no_loss(before: Any, after: Any) -> None:
    assert found(change("aws_s3_bucket_lifecycle_configuration", before, after)) == {}


def test_a_fresh_deployment_loses_nothing() -> None:
    """Everything created at once: a new bucket with its lifecycle and lock deletes nothing."""
    new = dict(BUCKET, bucket="fresh")
    doc = {"resource_changes": [
        change("aws_s3_bucket", None, new, name="fresh"),
        change("aws_s3_bucket_lifecycle_configuration", None, dict(lifecycle(30), bucket="fresh")),
        change("aws_s3_bucket_object_lock_configuration", None, dict(lock("COMPLIANCE", 14), bucket="fresh")),
        change("aws_s3_bucket_versioning", None, dict(versioning("Enabled"), bucket="fresh")),
        change("openstack_compute_volume_attach_v2", None, {"volume_id": "v", "instance_id": "i"}),
    ]}
    assert at_risk(doc) == []


@pytest.mark.parametrize(("after", "expect"), [
    (versioning("Suspended"), "versioning goes from Enabled to Suspended"),
    (None, "versioning is suspended (its resource is removed)"),
])
def test_versioning_suspended_or_removed_is_a_loss(after: Any, expect: str) -> None:
    risk = found(change("aws_s3_bucket_versioning", versioning("Enabled"), after))
    assert expect in risk["aws_s3_bucket_versioning.this"]


def test_versioning_replaced_enabled_is_no_loss() -> None:
    assert found(change("aws_s3_bucket_versioning", versioning("Enabled"), versioning("Enabled"),
                        ["delete", "create"])) == {}


@pytest.mark.parametrize(("after", "expect"), [
    (lock("COMPLIANCE", 1), "object lock is shortened from 14 to 1 days"),
    (lock("GOVERNANCE", 14), "object lock goes from COMPLIANCE to GOVERNANCE"),
    (None, "the object lock (COMPLIANCE 14 days) is removed"),
])
def test_a_weaker_lock_is_a_loss(after: Any, expect: str) -> None:
    risk = found(change("aws_s3_bucket_object_lock_configuration", lock("COMPLIANCE", 14), after))
    assert expect in risk["aws_s3_bucket_object_lock_configuration.this"]


def test_a_longer_lock_is_no_loss() -> None:
    assert found(change("aws_s3_bucket_object_lock_configuration", lock("GOVERNANCE", 14),
                        lock("COMPLIANCE", 30))) == {}


def test_force_destroy_turning_true_is_a_loss() -> None:
    doc = {"resource_changes": [change("aws_s3_bucket", BUCKET, dict(BUCKET, force_destroy=True),
                                       name="records")]}
    (risk,) = at_risk(doc)
    assert risk.address == "aws_s3_bucket.records" and risk.action == "update"
    assert "force_destroy turns true" in risk.describe()
    doc = {"resource_changes": [change("aws_s3_bucket", dict(BUCKET, force_destroy=True), BUCKET,
                                       name="records")]}
    assert at_risk(doc) == []


@pytest.mark.parametrize(("after", "lost"), [
    ({"bucket": "records", "policy": READ_ONLY}, True),
    (None, True),
    ({"bucket": "records", "policy": TLS_ONLY}, False),
])
def test_the_tls_only_policy_removed_is_a_loss(after: Any, lost: bool) -> None:
    risk = found(change("aws_s3_bucket_policy", {"bucket": "records", "policy": TLS_ONLY}, after))
    assert bool(risk) == lost
    if lost:
        assert "TLS-only policy" in risk["aws_s3_bucket_policy.this"]


def test_an_unknown_new_value_cannot_show_data_is_kept() -> None:
    risk = found(change("aws_s3_bucket_lifecycle_configuration", lifecycle(2555),
                        {"bucket": "records"}, unknown={"rule": True}))
    assert "its rule is unknown until apply" in risk["aws_s3_bucket_lifecycle_configuration.this"]


def test_a_detached_volume_is_a_loss_unless_its_volume_or_instance_goes_anyway() -> None:
    attach = {"volume_id": "vol-1", "instance_id": "srv-1"}
    volume = {"id": "vol-1", "metadata": {"ssb_classification": "personal"}}
    kept_volume = change("openstack_blockstorage_volume_v3", volume, volume, ["no-op"], name="data")
    (risk,) = at_risk({"resource_changes": [kept_volume,
                                            change("openstack_compute_volume_attach_v2", attach, None)]})
    assert risk.kind == "volume" and risk.holds == "personal"
    assert "volume vol-1 is detached from instance srv-1 while it runs" in risk.describe()
    gone_volume = change("openstack_blockstorage_volume_v3", volume, None, name="data")
    risks = at_risk({"resource_changes": [gone_volume,
                                          change("openstack_compute_volume_attach_v2", attach, None)]})
    assert [r.address for r in risks] == ["openstack_blockstorage_volume_v3.data"]


def test_parts_of_a_deleted_bucket_are_not_named_twice() -> None:
    doc = {"resource_changes": [
        change("aws_s3_bucket", BUCKET, None, name="records"),
        change("aws_s3_bucket_versioning", versioning("Enabled"), None),
        change("aws_s3_bucket_object_lock_configuration", lock("COMPLIANCE", 14), None),
    ]}
    assert [r.address for r in at_risk(doc)] == ["aws_s3_bucket.records"]
