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
from typing import Any

from generator.evidence.hcl import block_config, deployment_dir, module_call_conf
from generator.evidence.plan import module_address, parse_key, split_address
from generator.evidence.scope import Scope, enrich
from generator.evidence.values import attr, has_no_instances, is_unresolved_text, map_value, unwrap

BUCKET = "aws_s3_bucket"
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
    `backup-bucket`, or when its name contains "backup"."""
    return backup_evidence(scope.conf, module_directory(scope))


def backup_evidence(conf: dict[str, Any], directory: str) -> bool:
    """is_backup_bucket for a bucket's conf and the directory (or module source) it is in."""
    if map_value(conf, "tags", "ssb_role") == "backup":
        return True
    name = attr(conf, "bucket")
    if isinstance(name, str) and "backup" in name.lower():
        return True
    return os.path.basename(directory.rstrip("/")) == BACKUP_MODULE


def backup_buckets(scope: Scope) -> list[str]:
    """Addresses of the backup buckets of the deployment the checked resource belongs to (a
    plan is one deployment; in HCL mode, the resources of the same root module)."""
    if scope.plan is not None:
        plan = scope.plan
        return [r.address for r in plan.of_type(BUCKET)
                if backup_evidence(checkov_conf(r.values),
                                   str(plan.module_call(tuple(n for n, _ in r.modules)).get("source") or ""))]
    me = scope.node
    if me is None:
        return []
    home = deployment_dir(me)
    return [str(n.get("__address__")) for n in scope.nodes
            if n.get("resource_type") == BUCKET and n.get("block_type_") == "resource"
            and deployment_dir(n) == home
            and backup_evidence(block_config(n), os.path.dirname(str(n.get("file_path_"))))]


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
