"""What a plan deletes or replaces that holds data: the facts behind CKV_GDPR_23, `plan`'s DATA
AT RISK section and `apply`'s refusal.

Read from the plan's own `resource_changes` (not from the planned values Checkov hands a check):
a resource that is only deleted is absent from the planned values, so no Checkov resource check
ever sees it. Terraform itself decides delete, replace or update in place; this module only
names what the plan says it will do to a resource that holds data:

* volumes (the data on them is gone with them);
* buckets (their objects and earlier versions), the Terraform state bucket and the backup bucket
  above all;
* instances: their boot volume is deleted with them (`delete_on_termination`), and with it what
  only the instance keeps (logs not yet shipped, the log collector's CA key, the AIDE baseline).

For a replacement, Terraform's `replace_paths` name the arguments that force it. What a resource
holds comes from its classification (`ssb_classification` in metadata or tags; no evidence counts
as personal data, as in the rest of the pack) and its role (`ssb_role`, a backup-bucket or
state-bucket module, or "backup"/"state" in a bucket's name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.evidence import inplace
from generator.evidence.inplace import change_body
from generator.evidence.plan import split_address

ID = "CKV_GDPR_23"

# Resource type -> the map attribute that carries the classification, and what it is.
DATA_HOLDERS: dict[str, tuple[str, str]] = {
    "openstack_blockstorage_volume_v3": ("metadata", "volume"),
    "openstack_blockstorage_volume_v2": ("metadata", "volume"),
    "openstack_compute_instance_v2": ("metadata", "instance"),
    "openstack_objectstorage_container_v1": ("metadata", "bucket"),
    "aws_s3_bucket": ("tags", "bucket"),
}

# Terraform's action_reason values, as a person reads them.
_REASONS = {
    "replace_because_cannot_update": "an argument that cannot change in place changed",
    "replace_because_tainted": "it is tainted",
    "replace_by_request": "-replace asked for it",
    "replace_by_triggers": "replace_triggered_by fired",
    "delete_because_no_resource_config": "its block is gone from the configuration (renamed or removed)",
    "delete_because_no_module": "its module call is gone from the configuration (renamed or removed)",
    "delete_because_wrong_repetition": "its block changed between count, for_each and neither",
    "delete_because_count_index": "count went down",
    "delete_because_each_key": "its for_each key is gone",
    "delete_because_no_move_target": "a moved block points at nothing",
}


@dataclass(frozen=True)
class AtRisk:
    """One resource a plan deletes or replaces, and what goes with it."""

    address: str
    type: str
    kind: str  # "volume" | "bucket" | "instance"
    action: str  # "delete" | "replace"; for a loss in place also "update" | "create"
    reason: str  # Terraform's action_reason in words ("" when the plan gives none)
    forced_by: tuple[str, ...]  # replace_paths as `a.b[0].c` ("" entries never)
    holds: str  # the classification: "personal" (no evidence says otherwise) or its value
    role: str  # "state" | "backup" | ""
    loses: tuple[str, ...] = ()  # a loss in place: what the change does (inplace.py)
    holder: str = ""  # a loss in place: the bucket's name or the volume's id

    @property
    def what(self) -> str:
        """What is lost, in one phrase."""
        data = "personal data" if self.holds == "personal" else f"{self.holds} data"
        if self.loses:
            return f"the {self.kind} {self.holder} holding {data}: {'; '.join(self.loses)}"
        if self.kind == "instance":
            return (f"an instance classified {self.holds}: its boot volume is deleted with it "
                    "(logs not yet shipped, keys and baselines kept only on it)")
        if self.role == "state":
            return "the Terraform state bucket (every deployment's record of what it manages)"
        if self.role == "backup":
            return f"the backup bucket (the only copy to restore {data} from)"
        return f"a {self.kind} holding {data}"

    def describe(self) -> str:
        """The finding's detail: what happens, why, what it holds, how to allow it."""
        verb = {"delete": "deletes", "replace": "replaces (deletes, then creates)",
                "update": "changes in place", "create": "adds"}.get(self.action, self.action)
        if self.loses:
            verb += f" {self.type} of"
        text = f"the plan {verb} {self.what}"
        if self.forced_by:
            text += f"; forced by a change of {', '.join(self.forced_by)}"
        if self.reason:
            text += f"; {self.reason}"
        return text + (f"; if intended, back it up and allow it with --allow-replace {self.address}")

    def as_dict(self) -> dict[str, Any]:
        return {"address": self.address, "type": self.type, "kind": self.kind,
                "action": self.action, "reason": self.reason, "forced_by": list(self.forced_by),
                "holds": self.holds, "role": self.role, "what": self.what}


def _path_text(path: list[Any]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _module_sources(doc: dict[str, Any], address: str) -> list[str]:
    """The `source` of every module call on the way to `address` (configuration section)."""
    config = (doc.get("configuration") or {}).get("root_module") or {}
    sources = []
    for name, _ in split_address(address)[0]:
        call = (config.get("module_calls") or {}).get(name) or {}
        sources.append(str(call.get("source") or ""))
        config = call.get("module") or {}
    return sources


def _role(values: dict[str, Any], attribute: str, sources: list[str], kind: str) -> str:
    if kind != "bucket":
        return ""
    tags = values.get(attribute) if isinstance(values.get(attribute), dict) else {}
    role = str(tags.get("ssb_role") or "")
    if role in ("state", "backup"):
        return role
    last = sources[-1].rstrip("/").rsplit("/", 1)[-1] if sources else ""
    if last in ("state-bucket", "backup-bucket"):
        return last.split("-")[0]
    name = str(values.get("bucket") or values.get("name") or "").lower()
    if "backup" in name:
        return "backup"
    if "state" in name:
        return "state"
    return ""


def at_risk(doc: dict[str, Any]) -> list[AtRisk]:
    """Every data-holding resource the plan deletes or replaces, in plan order."""
    found = []
    for change in doc.get("resource_changes") or []:
        if change.get("mode", "managed") != "managed" or change.get("type") not in DATA_HOLDERS:
            continue
        body = change_body(change)
        actions = list(body.get("actions") or [])
        if "delete" not in actions:
            continue
        action = "replace" if "create" in actions else "delete"
        attribute, kind = DATA_HOLDERS[change["type"]]
        before = body.get("before") if isinstance(body.get("before"), dict) else {}
        holds = _holds(before, attribute)
        reason_code = str(change.get("action_reason") or "")
        forced = tuple(_path_text(p) for p in body.get("replace_paths") or [] if p)
        found.append(AtRisk(
            address=str(change.get("address")), type=change["type"], kind=kind, action=action,
            reason=_REASONS.get(reason_code, reason_code.replace("_", " ")),
            forced_by=forced, holds=holds,
            role=_role(before, attribute, _module_sources(doc, str(change.get("address"))), kind)))
    return found + _in_place(doc)


def _holds(values: dict[str, Any], attribute: str) -> str:
    """The classification in a resource's metadata or tags. No evidence counts as personal data;
    a value other than the non-personal ones is kept as written (e.g. "special-category")."""
    labels = values.get(attribute)
    classification = labels.get("ssb_classification") if isinstance(labels, dict) else None
    return str(classification) if isinstance(classification, str) and classification else "personal"


def _in_place(doc: dict[str, Any]) -> list[AtRisk]:
    """What the plan loses while the bucket or volume stays (inplace.py)."""
    found = []
    for change, action, loses in inplace.losses(doc):
        body = change_body(change)
        values = body.get("before") if isinstance(body.get("before"), dict) else \
            body.get("after") if isinstance(body.get("after"), dict) else {}
        if change["type"] == inplace.ATTACHMENT:
            kind, holder = "volume", str(values.get("volume_id") or "")
            owner, attribute = inplace.volume_of(doc, holder), "metadata"
        else:
            kind, holder = "bucket", str(values.get("bucket") or "")
            owner, attribute = inplace.bucket_of(doc, holder), "tags"
        holds = _holds(owner, attribute)
        found.append(AtRisk(
            address=str(change.get("address")), type=change["type"], kind=kind, action=action,
            reason="", forced_by=(), holds=holds,
            role=_role(owner, attribute, [], kind) if kind == "bucket" else "",
            loses=loses, holder=holder))
    return found


def kept(doc: dict[str, Any]) -> list[str]:
    """Addresses of the data-holding resources the plan keeps (creates, updates or leaves)."""
    return [str(c.get("address")) for c in doc.get("resource_changes") or []
            if c.get("mode", "managed") == "managed" and c.get("type") in DATA_HOLDERS
            and "delete" not in (change_body(c).get("actions") or [])]


HCL_REASON = ("no plan to judge: whether a change deletes or replaces this resource is decided by "
              "Terraform against the state; scan a plan (scan DIR --plan, scan PLAN.json) or run "
              "safespring-blueprints plan, which prints DATA AT RISK")
