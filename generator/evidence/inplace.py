"""Data lost without a deletion: what a plan changes in place that deletes data, or removes what
keeps it, while the volume or bucket itself stays. The other half of CKV_GDPR_23 and of `apply`'s
refusal (change.py names what a plan deletes or replaces).

Each rule reads Terraform's own before and after values of one change; nothing is guessed from
names. What is flagged, and why it loses data:

* a bucket's lifecycle expires current objects, or earlier versions, sooner than before (or
  starts expiring them): every object older than the new limit is deleted on the next run;
* a bucket's versioning is suspended or its resource removed: what is overwritten or deleted
  from then on is gone, with no earlier version to restore;
* a bucket's object lock is shortened, weakened from COMPLIANCE to GOVERNANCE, or removed:
  locked versions become deletable sooner, or by anyone with the keys;
* `force_destroy` turns true on a bucket: the next destroy deletes every object in it;
* a bucket's TLS-only policy (a Deny of `aws:SecureTransport = false`) is removed: personal data
  may then travel in clear (Art. 32(1)(a));
* a volume attachment is deleted or replaced: the volume is force-detached from a running
  instance, with its file system mounted and its LUKS mapping open.

Any shortening is flagged, also one the spec asked for: the data deleted is gone either way, so
it is allowed by name (`--allow-replace`) and the allowance record keeps that decision.
A change whose new value is unknown until apply is flagged as well: the plan cannot show that
it keeps the data. A lifecycle created on a bucket that already exists counts as a shortening
from "never".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from generator.evidence.s3policy import denies_plain_transport, policy_statements
from generator.evidence.values import Unresolved

_BUCKET_PARTS = ("aws_s3_bucket_lifecycle_configuration", "aws_s3_bucket_versioning",
                 "aws_s3_bucket_object_lock_configuration", "aws_s3_bucket_policy")
ATTACHMENT = "openstack_compute_volume_attach_v2"
TYPES = frozenset({*_BUCKET_PARTS, "aws_s3_bucket", ATTACHMENT})
"""Resource types whose in-place change (or deletion) can lose data that outlives them."""

_NEVER = float("inf")


def change_body(change: dict[str, Any]) -> dict[str, Any]:
    """The actions, before and after of one resource change: a `terraform show -json` plan
    nests them under "change", a review document (show-plan) does not."""
    return change.get("change") if isinstance(change.get("change"), dict) else change


def _values(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def _first(value: Any) -> dict[str, Any]:
    """The single nested block Terraform renders as a one-element list (or nothing)."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0]
    return value if isinstance(value, dict) else {}


def _days(days: float) -> str:
    return "never" if days == _NEVER else f"after {int(days)} day{'s' if days != 1 else ''}"


def _shortest(values: dict[str, Any], block: str, key: str) -> float:
    """The shortest expiry in days over the enabled lifecycle rules (inf: nothing expires).
    An absolute `date` counts as 0: from that date on everything the rule covers goes."""
    shortest = _NEVER
    for rule in values.get("rule") or []:
        if not isinstance(rule, dict) or str(rule.get("status", "Enabled")) != "Enabled":
            continue
        for expiry in rule.get(block) or []:
            if not isinstance(expiry, dict):
                continue
            days = expiry.get(key)
            if isinstance(days, int | float) and days > 0:
                shortest = min(shortest, float(days))
            elif expiry.get("date"):
                shortest = 0.0
    return shortest


def _lifecycle(before: dict[str, Any], after: dict[str, Any] | None) -> Iterator[str]:
    if after is None:
        return  # a lifecycle removed expires nothing any more: it keeps data longer
    for block, key, what in (("expiration", "days", "current objects"),
                             ("noncurrent_version_expiration", "noncurrent_days",
                              "earlier versions")):
        was, now = _shortest(before, block, key), _shortest(after, block, key)
        if now < was:
            yield (f"{what} expire {_days(now)} (was {_days(was)}): every one older than that is "
                   "deleted")


def _versioning(before: dict[str, Any], after: dict[str, Any] | None) -> Iterator[str]:
    was = str(_first(before.get("versioning_configuration")).get("status") or "")
    if was != "Enabled":
        return
    if after is None:
        yield ("versioning is suspended (its resource is removed): what is overwritten or deleted "
               "from then on has no earlier version to restore")
        return
    now = str(_first(after.get("versioning_configuration")).get("status") or "")
    if now != "Enabled":
        yield (f"versioning goes from Enabled to {now or 'unknown'}: what is overwritten or "
               "deleted from then on has no earlier version to restore")


def _retention(values: dict[str, Any]) -> tuple[str, float]:
    retention = _first(_first(values.get("rule")).get("default_retention"))
    days = retention.get("days") or 0
    years = retention.get("years") or 0
    total = (float(days) if isinstance(days, int | float) else 0.0) + \
        (float(years) * 365 if isinstance(years, int | float) else 0.0)
    return str(retention.get("mode") or ""), total


def _object_lock(before: dict[str, Any], after: dict[str, Any] | None) -> Iterator[str]:
    mode, days = _retention(before)
    if not mode and not days:
        return
    if after is None:
        yield (f"the object lock ({mode} {int(days)} days) is removed: new versions can be deleted "
               "at once")
        return
    new_mode, new_days = _retention(after)
    if new_days < days:
        yield (f"the object lock is shortened from {int(days)} to {int(new_days)} days: versions "
               "become deletable sooner")
    if mode == "COMPLIANCE" and new_mode != "COMPLIANCE":
        yield (f"the object lock goes from COMPLIANCE to {new_mode or 'none'}: whoever holds the "
               "keys can then delete locked versions")


def _force_destroy(before: dict[str, Any], after: dict[str, Any] | None) -> Iterator[str]:
    if after is not None and after.get("force_destroy") is True and before.get("force_destroy") is not True:
        yield "force_destroy turns true: the next destroy deletes every object in the bucket"


def _tls_only(before: dict[str, Any], after: dict[str, Any] | None) -> Iterator[str]:
    def denies(values: dict[str, Any] | None) -> bool | None:
        if values is None:
            return False
        statements = policy_statements(values.get("policy"))
        if isinstance(statements, Unresolved):
            return None
        return any(denies_plain_transport(s) for s in statements)

    if denies(before) is True and denies(after) is not True:
        yield ("the bucket's TLS-only policy (Deny when aws:SecureTransport is false) is removed: "
               "objects may then travel in clear")


_RULES: dict[str, Callable[[dict[str, Any], dict[str, Any] | None], Iterator[str]]] = {
    "aws_s3_bucket_lifecycle_configuration": _lifecycle,
    "aws_s3_bucket_versioning": _versioning,
    "aws_s3_bucket_object_lock_configuration": _object_lock,
    "aws_s3_bucket_policy": _tls_only,
    "aws_s3_bucket": _force_destroy,
}


def _removed(doc: dict[str, Any], rtype: str) -> set[str]:
    """Names (buckets) or ids (volumes, instances) of what the plan deletes or replaces itself:
    a part of it goes with it, and change.py already names that loss."""
    gone = set()
    for change in doc.get("resource_changes") or []:
        body = change_body(change)
        if change.get("type") == rtype and "delete" in (body.get("actions") or []):
            before = _values(body, "before")
            gone.update(str(before[k]) for k in ("bucket", "id") if before.get(k))
    return gone


# The arguments each rule reads: an unknown one of these cannot show that data is kept.
_READS = {"aws_s3_bucket_lifecycle_configuration": "rule", "aws_s3_bucket_versioning":
          "versioning_configuration", "aws_s3_bucket_object_lock_configuration": "rule",
          "aws_s3_bucket_policy": "policy", "aws_s3_bucket": "force_destroy"}


def _any_unknown(marks: Any) -> bool:
    if marks is True:
        return True
    if isinstance(marks, dict):
        return any(_any_unknown(v) for v in marks.values())
    if isinstance(marks, list):
        return any(_any_unknown(v) for v in marks)
    return False


def _attachment(before: dict[str, Any], gone: set[str]) -> tuple[str, ...]:
    if {str(before.get("volume_id")), str(before.get("instance_id"))} & gone:
        return ()  # the volume or the instance goes itself: change.py names it
    return (f"volume {before.get('volume_id') or '(unknown)'} is detached from instance "
            f"{before.get('instance_id') or '(unknown)'} while it runs: a forced detach of a "
            "mounted file system and an open LUKS mapping",)


def _bucket_part(doc: dict[str, Any], rtype: str, actions: list[str], body: dict[str, Any],
                 buckets_gone: set[str]) -> tuple[str, ...]:
    before = _values(body, "before")
    after = None if actions == ["delete"] else _values(body, "after")
    # Of what is created, only a lifecycle added to a bucket that exists already deletes anything.
    if actions == ["create"] and (rtype != "aws_s3_bucket_lifecycle_configuration" or
                                  not bucket_of(doc, str((after or {}).get("bucket") or ""))):
        return ()
    name = str((before or after or {}).get("bucket") or "")
    if rtype == "aws_s3_bucket" and "delete" in actions:
        return ()  # the bucket itself goes: change.py names it
    if rtype != "aws_s3_bucket" and name in buckets_gone:
        return ()
    if after is not None and _any_unknown(_values(body, "after_unknown").get(_READS[rtype])):
        return (f"its {_READS[rtype]} is unknown until apply: the plan cannot show that it keeps "
                "the data",)
    return tuple(_RULES[rtype](before, after))


def losses(doc: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, tuple[str, ...]]]:
    """(change, action, what it loses) for every in-place loss in the plan, in plan order.
    `action` is "update" for a change in place, "delete" or "replace" for a part removed or
    replaced, "create" for a lifecycle added to an existing bucket."""
    buckets_gone = _removed(doc, "aws_s3_bucket")
    gone = _removed(doc, "openstack_blockstorage_volume_v3") | \
        _removed(doc, "openstack_compute_instance_v2")
    for change in doc.get("resource_changes") or []:
        rtype = change.get("type")
        if change.get("mode", "managed") != "managed" or rtype not in TYPES:
            continue
        body = change_body(change)
        actions = list(body.get("actions") or [])
        if not actions or actions in (["no-op"], ["read"]):
            continue
        action = "update" if actions == ["update"] else "create" if actions == ["create"] else (
            "replace" if "create" in actions else "delete")
        if rtype == ATTACHMENT:
            found = _attachment(_values(body, "before"), gone) if "delete" in actions else ()
        else:
            found = _bucket_part(doc, rtype, actions, body, buckets_gone)
        if found:
            yield change, action, found


def bucket_of(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """The before values of the bucket called `name` in the plan (its tags say what it holds)."""
    for change in doc.get("resource_changes") or []:
        before = _values(change_body(change), "before")
        if change.get("type") == "aws_s3_bucket" and before.get("bucket") == name:
            return before
    return {}


def volume_of(doc: dict[str, Any], volume_id: str) -> dict[str, Any]:
    """The before values of the volume with `volume_id` in the plan."""
    for change in doc.get("resource_changes") or []:
        before = _values(change_body(change), "before")
        if str(change.get("type", "")).startswith("openstack_blockstorage_volume") \
                and before.get("id") == volume_id:
            return before
    return {}
