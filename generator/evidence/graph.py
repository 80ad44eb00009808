"""What must exist next to a resource: a bucket's companion resources and a resource's provider.

A resource check sees one block; a bucket's protections are separate resources
(`aws_s3_bucket_versioning`, `_public_access_block`, `_policy`, `_lifecycle_configuration`,
`_object_lock_configuration`) that name the bucket in their `bucket` argument. These helpers tie
them together, in both modes:

* Plan mode: a companion whose `bucket` is known (a literal name, or a name Terraform evaluated)
  configures the bucket of that name on the same provider; one whose `bucket` is known only
  after apply (`aws_s3_bucket.this.id`) configures the bucket its configuration references
  (generator.evidence.plan.Plan.targets: module-relative, `var.x` followed up, `each.key`/`count.index`
  tied to the instance with the same key).
* HCL mode: the same rules on the text Checkov leaves (`aws_s3_bucket.this.id`, or a literal
  name), within the same module instance.

A companion whose bucket cannot be told is returned as unattributed, so a check can say so
instead of reporting a protection as missing (or present) by guessing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.evidence.hcl import block_config, deployment_dir, module_call_conf
from generator.evidence.plan import module_address, parse_key, split_address
from generator.evidence.scope import Scope, enrich
from generator.evidence.source import blocks_in
from generator.evidence.values import attr, has_no_instances, is_unresolved_text, map_value, unwrap

BUCKET = "aws_s3_bucket"
# Swift containers hold backups too (restic, duplicity and rclone write to Swift): a store for
# CKV_GDPR_22, by the same evidence as a bucket; Object Lock and the site are S3 bucket checks.
SWIFT_CONTAINER = "openstack_objectstorage_container_v1"
BACKUP_STORES = {BUCKET: "bucket", SWIFT_CONTAINER: "name"}  # type -> the argument naming it
# Words of a store's name that say it holds backups: "backup" anywhere in it, or one of these as a
# word of its own (the backup tools' names and snapshots: `rke2-restic`, `etcd-snapshots`). Whole
# words, so that `cyborg-media` is no Borg repository.
BACKUP_WORDS = frozenset({"restic", "velero", "kopia", "borg", "duplicity", "duplicati",
                          "snapshot", "snapshots"})
_WORD = re.compile(r"[a-z0-9]+")
_BUCKET_REF = re.compile(r'^aws_s3_bucket\.([A-Za-z0-9_-]+)(\[[^\]]*\])?(?:\.(id|bucket))?$')


@dataclass(frozen=True)
class Companion:
    """A resource that configures a bucket."""

    address: str
    conf: dict[str, Any]  # as a check reads it (Checkov's conf shape)


@dataclass(frozen=True)
class Companions:
    """The companions of one type tied to a bucket, and those whose bucket cannot be told."""

    linked: tuple[Companion, ...]
    unattributed: tuple[tuple[str, str], ...]  # (address, why)


def _hcl_key(text: str | None) -> Any:
    """An index as Checkov renders it: `[0]`, `["a"]`, or `[a]` (substituted, unquoted)."""
    if not text:
        return None
    inner = text[1:-1]
    try:
        return parse_key(text)
    except ValueError:
        return inner


def companions(scope: Scope, rtype: str) -> Companions:
    """Resources of `rtype` that configure the bucket the check is looking at."""
    if scope.resource is not None:
        return _plan_companions(scope, rtype)
    return _hcl_companions(scope, rtype)


def _plan_companions(scope: Scope, rtype: str) -> Companions:
    plan, bucket = scope.plan, scope.resource
    name = bucket.values.get("bucket")
    linked, unattributed = [], []
    for other in plan.of_type(rtype):
        value = other.values.get("bucket")
        if isinstance(value, str) and value and not other.is_unknown("bucket"):
            if value == name and other.provider_key == bucket.provider_key:
                linked.append(other)
            continue
        targets = plan.targets(other, plan.references(other, "bucket"), rtype=BUCKET)
        if len(targets) == 1:
            if targets[0].address == bucket.address:
                linked.append(other)
        elif bucket.address in {t.address for t in targets}:
            unattributed.append((other.address, "its bucket is one of "
                                 + ", ".join(sorted(t.address for t in targets))))
        elif not targets:
            refs = ", ".join(plan.references(other, "bucket")) or "a value the plan does not record"
            unattributed.append((other.address, f"its bucket is known only after apply ({refs})"))
    return Companions(
        tuple(Companion(r.address, enrich(checkov_conf(r.values), plan, r)) for r in linked),
        tuple(unattributed))


def checkov_conf(values: dict[str, Any]) -> dict[str, Any]:
    """Planned values in the shape Checkov hands a check (scalars and lists wrapped once)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out[key] = [checkov_conf(v) for v in value]
        elif isinstance(value, dict):
            out[key] = [value]
        else:
            out[key] = [value]
    return out


def _hcl_companions(scope: Scope, rtype: str) -> Companions:
    me = scope.node
    if me is None:
        return Companions((), ((scope.address, "scan graph unavailable"),))
    modules, _, bname, bkey, _ = split_address(scope.address)
    directory = os.path.dirname(str(me.get("file_path_")))
    home = deployment_dir(me)
    name = attr(scope.conf, "bucket")
    linked, unattributed = [], []
    for node in scope.nodes:
        if node.get("resource_type") != rtype or node.get("block_type_") != "resource" \
                or deployment_dir(node) != home:
            continue
        address = str(node.get("__address__", ""))
        other_modules, _, _, okey, _ = split_address(address)
        conf = block_config(node)
        if has_no_instances(conf):
            continue  # count = 0 / an empty for_each: it configures nothing
        value = unwrap(conf.get("bucket"))
        if not isinstance(value, str):
            unattributed.append((address, f"its bucket is {value!r}"))
            continue
        m = _BUCKET_REF.match(value.strip().removeprefix("${").removesuffix("}"))
        if m:
            if other_modules != modules or os.path.dirname(str(node.get("file_path_"))) != directory:
                continue
            key = _hcl_key(m.group(2))
            if m.group(1) == bname and (key == bkey or (key is None and okey == bkey) or
                                        (key is None and bkey is None)):
                linked.append(Companion(address, conf))
            continue
        if is_unresolved_text(value):
            unattributed.append((address, f"its bucket is {value} (unresolved by Checkov's HCL "
                                          "evaluation; scanning the plan with scan DIR --plan ties it)"))
        elif isinstance(name, str) and value == name:
            linked.append(Companion(address, conf))
    return Companions(tuple(linked), tuple(unattributed))


def missing_message(rtype: str, found: Companions, what: str) -> str:
    """Why a bucket fails for want of a companion: missing, or not attributable."""
    if found.unattributed:
        address, why = found.unattributed[0]
        return (f"no {rtype} is tied to this bucket; {address} may be the one, but {why}")
    return f"no {rtype} configures this bucket: {what}"


# ---- backup buckets --------------------------------------------------------------------------


BACKUP_MODULE = "backup-bucket"


def is_backup_bucket(scope: Scope) -> bool:
    """A bucket is a backup bucket when its tags say `ssb_role = "backup"` (the project's
    backup-bucket module sets it), when it is written in a module directory named
    `backup-bucket`, or when its name says so (`backup_name`)."""
    return backup_evidence(scope.conf, module_directory(scope))


def backup_name(name: str) -> bool:
    """Whether a bucket's or container's name says it holds backups (BACKUP_WORDS)."""
    lowered = name.lower()
    return "backup" in lowered or not BACKUP_WORDS.isdisjoint(_WORD.findall(lowered))


def backup_evidence(conf: dict[str, Any], directory: str, rtype: str = BUCKET) -> bool:
    """is_backup_bucket for a bucket's (or Swift container's) conf and the directory (or module
    source) it is in."""
    if map_value(conf, "tags" if rtype == BUCKET else "metadata", "ssb_role") == "backup":
        return True
    name = attr(conf, BACKUP_STORES[rtype])
    if isinstance(name, str) and backup_name(name):
        return True
    return os.path.basename(directory.rstrip("/")) == BACKUP_MODULE


def backup_buckets(scope: Scope) -> list[str]:
    """Addresses of the backup buckets (and Swift containers) of the deployment the checked
    resource belongs to (a plan is one deployment; in HCL mode, the resources of the same root
    module)."""
    if scope.plan is not None:
        plan = scope.plan
        return [r.address for rtype in BACKUP_STORES for r in plan.of_type(rtype)
                if backup_evidence(checkov_conf(r.values),
                                   str(plan.module_call(tuple(n for n, _ in r.modules)).get("source") or ""),
                                   rtype)]
    me = scope.node
    if me is None:
        return []
    home = deployment_dir(me)
    return [str(n.get("__address__")) for n in scope.nodes
            if n.get("resource_type") in BACKUP_STORES and n.get("block_type_") == "resource"
            and deployment_dir(n) == home
            and backup_evidence(block_config(n), os.path.dirname(str(n.get("file_path_"))),
                                str(n.get("resource_type")))]


def module_directory(scope: Scope) -> str:
    """The directory the resource's block is written in ("" when unknown)."""
    if scope.resource is not None:
        names = tuple(n for n, _ in scope.resource.modules)
        source = str(scope.plan.module_call(names).get("source") or "") if names else ""
        return source
    me = scope.node
    return os.path.dirname(str(me.get("file_path_"))) if me else ""


# ---- which provider configures a resource ----------------------------------------------------


def provider_of(scope: Scope, local_name: str = "aws") -> str | None:
    """The root module's provider configuration key ("aws", "aws.backup") the resource uses,
    None when it cannot be told. Plan mode: Terraform's `provider_config_key`. HCL mode: the
    resource's `provider` argument, then each enclosing module call's `providers` mapping."""
    if scope.resource is not None:
        key = scope.resource.provider_key
        return key if key and ":" not in key else None
    me = scope.node
    if me is None:
        return None
    explicit = unwrap(block_config(me).get("provider"))
    name = str(explicit).strip("${}") if isinstance(explicit, str) else local_name
    source = me.get("source_module_object_")
    while source is not None:
        call = module_call_conf(scope.nodes, source)
        if call is None:
            return None
        mapping = unwrap(call.get("providers")) if "providers" in call else {}
        if isinstance(mapping, list) and len(mapping) == 1:
            mapping = mapping[0]
        if not isinstance(mapping, dict):
            return None
        if name in mapping:
            value = unwrap(mapping[name])
            if not isinstance(value, str):
                return None
            name = value.strip().strip("${}")
        elif "." in name:
            return None  # an alias must be passed explicitly
        source = getattr(source, "nested_tf_module", None)
    return name


def module_of(address: str) -> str:
    """The module instance part of an address ("" in the root)."""
    return module_address(split_address(address)[0])


# ---- which instances a volume is attached to ------------------------------------------------

INSTANCE = "openstack_compute_instance_v2"
ATTACH = "openstack_compute_volume_attach_v2"
VOLUMES = ("openstack_blockstorage_volume_v3", "openstack_blockstorage_volume_v2")


@dataclass(frozen=True)
class Attached:
    """An instance a volume is attached to: its plan resource (plan mode) or graph node (HCL)."""

    address: str
    resource: Any = None
    node: dict[str, Any] | None = None


def attached_instances(scope: Scope) -> list[Attached]:
    """The instances the scope's volume is attached to: through an
    openstack_compute_volume_attach_v2 or a `block_device` naming it, in the same module; else
    through the module call its IDs are passed to (the instances that call creates). Empty when
    none is seen."""
    if scope.resource is not None:
        return _plan_attached(scope)
    return _hcl_attached(scope)


def _plan_attached(scope: Scope) -> list[Attached]:
    plan, volume = scope.plan, scope.resource
    found: dict[str, Any] = {}
    for att in plan.of_type(ATTACH):
        if volume.address in {t.address for t in plan.targets(att, plan.references(att, "volume_id"),
                                                               rtype=volume.type)}:
            for inst in plan.targets(att, plan.references(att, "instance_id"), rtype=INSTANCE):
                found[inst.address] = inst
    for inst in plan.of_type(INSTANCE):
        for i, _ in enumerate(inst.values.get("block_device") or []):
            refs = plan.references(inst, "block_device", i, "uuid")
            if volume.address in {t.address for t in plan.targets(inst, refs, rtype=volume.type)}:
                found[inst.address] = inst
    if not found and volume.modules:
        # The volume's IDs passed to another module call of the same parent module.
        parent, mine = volume.modules[:-1], volume.modules[-1][0]
        calls = plan.module_config(tuple(n for n, _ in parent)).get("module_calls") or {}
        for name, call in calls.items():
            refs = [r for e in (call.get("expressions") or {}).values() if isinstance(e, dict)
                    for r in e.get("references") or []]
            if name != mine and any(r == f"module.{mine}" or r.startswith(f"module.{mine}.") for r in refs):
                for inst in plan.of_type(INSTANCE):
                    if inst.modules[:len(parent) + 1][:-1] == parent and len(inst.modules) > len(parent) \
                            and inst.modules[len(parent)][0] == name:
                        found[inst.address] = inst
    return [Attached(a, resource=r) for a, r in sorted(found.items())]


_REF = r"(?:\$\{{)?{type}\.{name}(?:\[[^\]]*\])?\.id"


def _outer_call(node: dict[str, Any]) -> tuple[str, str] | None:
    """(name, file) of the outermost module call that rendered a graph node."""
    source, found = node.get("source_module_object_"), None
    while source is not None:
        found = (str(getattr(source, "name", "")), str(getattr(source, "path", "")))
        source = getattr(source, "nested_tf_module", None)
    return found


def _hcl_attached(scope: Scope) -> list[Attached]:
    me = scope.node
    if me is None:
        return []
    modules, vtype, vname, _, _ = split_address(scope.address)
    directory, home = os.path.dirname(str(me.get("file_path_"))), deployment_dir(me)
    mine = re.compile(_REF.format(type=re.escape(vtype), name=re.escape(vname)))
    same_module = [n for n in scope.nodes if n.get("block_type_") == "resource"
                   and deployment_dir(n) == home and os.path.dirname(str(n.get("file_path_"))) == directory
                   and split_address(str(n.get("__address__", "")))[0] == modules]
    instances = {str(n.get("__address__")): n for n in scope.nodes if n.get("resource_type") == INSTANCE
                 and n.get("block_type_") == "resource" and deployment_dir(n) == home}
    found: dict[str, dict[str, Any]] = {}
    for node in same_module:
        conf = block_config(node)
        if node.get("resource_type") == ATTACH and mine.search(str(unwrap(conf.get("volume_id")))):
            m = re.search(rf"{INSTANCE}\.([A-Za-z0-9_-]+)", str(unwrap(conf.get("instance_id"))))
            for address, inst in instances.items():
                other, _, name, _, _ = split_address(address)
                if m and other == modules and name == m.group(1):
                    found[address] = inst
        if node.get("resource_type") == INSTANCE and any(
                mine.search(str(unwrap(b.get("uuid")))) for b in conf.get("block_device") or []
                if isinstance(b, dict)):
            found[str(node.get("__address__"))] = node
    source = me.get("source_module_object_")
    if not found and source is not None:
        # Checkov puts the output's own expression in place of `module.<call>.<output>`, so the
        # call an argument names is read from the .tf source that writes the calls.
        call, path = getattr(source, "name", None), str(getattr(source, "path", ""))
        for block in blocks_in(Path(os.path.dirname(path))):
            if block.kind != "module" or str(block.file) != path or block.labels == (call,):
                continue
            if re.search(rf"\bmodule\.{re.escape(str(call))}\b", block.text):
                for address, inst in instances.items():
                    if _outer_call(inst) == (block.labels[0], path):
                        found[address] = inst
    return [Attached(a, node=n) for a, n in sorted(found.items())]
