"""Model in, files out: the complete blueprint as a mapping of relative path to bytes.

Pure (no disk writes), so tests and `update` can compare what would be written with what is
on disk. Terraform text comes only from templates rendered through the HCL encoder.
"""

from __future__ import annotations

import gzip
import hashlib
import math
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import yaml

from generator import __version__, ci, naming
from generator import measures as registry
from generator.features import CAPABILITIES, backup, egress, endpoints, logins, network
from generator.features.backup import restore_instructions
from generator.features.egress import CLIENTS_KEY, METADATA_KEY, REASONS
from generator.features.endpoints import tls_paths
from generator.platform import platform
from generator.render import cloudinit
from generator.render.engine import render_hcl, render_markdown
from generator.render.hcl import call, ref
from generator.spec.model import COLLECTOR_GROUP, EGRESS_GROUP, Bucket, InstanceGroup, Spec
from generator.terraform import TERRAFORM_MIN

MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")


@dataclass(frozen=True)
class GroupView:
    """Everything the templates need about one instance group."""

    group: InstanceGroup
    resource_name: str
    module: str
    cloud_init_path: str
    rules: dict[str, Any]
    metadata: dict[str, str]
    measures: tuple[str, ...]
    volumes: tuple[tuple[str, Any, str], ...]  # (module name, Volume, resource name)
    world_ports: tuple[int, ...]


# The SHA-256 of the cloud-init file an instance is created with: the instance-group module
# keeps it as it was (ignore_changes), so the state says which configuration each instance runs
# (generator/report/deployed.py).
GUEST_CONFIG_KEY = "ssb_guest_config"


def _metadata(spec: Spec, group: InstanceGroup, measures: tuple[str, ...],
              guest_config: str) -> dict[str, Any]:
    """Evidence every instance carries (literal values, so scanners can read them), and on the
    private network the egress proxy's addresses, known only once Terraform created it."""
    metadata: dict[str, Any] = {
        "ssb_deployment": spec.name,
        "ssb_classification": spec.classification,
        registry.METADATA_KEY: registry.for_metadata(measures),
        GUEST_CONFIG_KEY: hashlib.sha256(guest_config.encode("utf-8")).hexdigest(),
    }
    if spec.egress_proxied and group.network == "private":
        metadata[METADATA_KEY] = call(
            "join", " ", ref("module", naming.group_module(EGRESS_GROUP), "access_ip_v4"))
    if group.name == EGRESS_GROUP:
        # The private network's IPv4 subnet, read from the platform (main.tf): the only
        # clients Squid serves. Empty where no value can be read (an offline plan).
        metadata[CLIENTS_KEY] = call("join", " ", call("compact", [
            ref("data", "openstack_networking_subnet_v2", "private_ipv4", "cidr")]))
    return metadata


def modules_root() -> Traversable:
    """The Terraform modules shipped with the package (also `modules/` in the repository)."""
    return resources.files("generator").joinpath("modules")


def _measures(spec: Spec, group: InstanceGroup, parts: list) -> tuple[str, ...]:
    measures = list(cloudinit.measures(parts))
    if group.boots_from_volume:
        measures.append("central-storage")
    if group.count > 1:
        measures.append("anti-affinity")
    measures.append("security-group-explicit")
    return registry.require(measures, "instance")


# Nova refuses user data over 65535 bytes (base64 of what Terraform's base64gzip makes).
USER_DATA_LIMIT = 65535
# Terraform compresses with Go's gzip at its default level, a little larger than zlib's level 6
# (+0.3% measured on the bundled example's largest group); estimated with 1% to spare, which
# tests/test_guest_configuration.py holds against Terraform's own base64gzip().
_GO_GZIP_MARGIN = 1.01


def user_data_estimate(text: bytes) -> int:
    """Bytes Nova receives for `text` as Terraform's base64gzip(), estimated from above."""
    packed = len(gzip.compress(text, compresslevel=6, mtime=0))
    return math.ceil(math.ceil(packed * _GO_GZIP_MARGIN) / 3) * 4


def oversized_user_data(files: dict[str, bytes]) -> dict[str, int]:
    """Cloud-init files of a rendering whose user data Nova would refuse, with the estimate."""
    return {path: size for path, text in sorted(files.items())
            if path.startswith("cloud-init/")
            and (size := user_data_estimate(text)) > USER_DATA_LIMIT}


def group_measures(spec: Spec, group: InstanceGroup) -> tuple[str, ...]:
    """The measures the group's instances claim in their metadata (`ssb_measures`)."""
    return _measures(spec, group, [p for c in CAPABILITIES for p in c.parts(spec, group)])


def _group_view(spec: Spec, group: InstanceGroup) -> tuple[GroupView, dict[str, bytes]]:
    parts = [p for capability in CAPABILITIES for p in capability.parts(spec, group)]
    measures = _measures(spec, group, parts)
    world_ports = endpoints.world_tcp_ports(spec, group)
    config = cloudinit.merge(parts)
    text = cloudinit.dump(config, (
        f"Instance group '{group.name}' of deployment '{spec.name}'.",
        f"Generated by safespring-blueprints {__version__}; measures: {', '.join(measures)}.",
        "Terraform sends it gzip-compressed (base64gzip) to stay under Nova's 64 KiB limit.",
    ))
    files = {f"cloud-init/{group.name}.yaml": text.encode("utf-8")}
    view = GroupView(
        group=group,
        resource_name=naming.group_resource(spec.name, group.name),
        module=naming.group_module(group.name),
        cloud_init_path=f"cloud-init/{group.name}.yaml",
        rules=network.rules(spec, group, world_ports),
        metadata=_metadata(spec, group, measures, text),
        measures=measures,
        volumes=tuple((naming.volume_module(group.name, v.name), v,
                       naming.volume_resource(spec.name, group.name, v.name))
                      for v in group.volumes),
        world_ports=world_ports,
    )
    return view, files


@dataclass(frozen=True)
class BucketView:
    """A data bucket as the templates see it."""

    spec: Bucket
    module: str
    name: str
    tags: dict[str, str]


def _bucket_view(spec: Spec, bucket: Bucket) -> BucketView:
    measures = ["lifecycle-expiration", "tls-only", "versioning"]
    measures += ["object-lock"] if bucket.object_lock else []
    measures += ["public-read"] if bucket.public else ["no-public-access"]
    return BucketView(spec=bucket, module=naming.bucket_module(bucket.name),
                      name=naming.bucket(spec.name, bucket.name),
                      tags={"ssb_deployment": spec.name, "ssb_classification": spec.classification,
                            registry.METADATA_KEY: registry.for_tags(measures)})


def _modules_used(spec: Spec) -> list[str]:
    used = []
    if spec.groups:
        used += ["instance-group", "security-groups"]
    if any(g.volumes for g in spec.groups):
        used.append("volume")
    if spec.buckets:
        used.append("bucket")
    if backup.enabled(spec):
        used.append("backup-bucket")
    if spec.state.backend == "s3":
        used.append("state-bucket")
    if spec.logging.central:
        used += ["log-collector", "volume"]
    if _applications(spec):
        used.append("access")
    return sorted(set(used))


def _applications(spec: Spec) -> list:
    return [a for a in spec.access if a.kind == "application"]


def _copy_module(name: str) -> dict[str, bytes]:
    root = modules_root().joinpath(name)
    return {f"modules/{name}/{file}": root.joinpath(file).read_bytes() for file in MODULE_FILES}


def _clouds_example(spec: Spec) -> str:
    site = platform().sites[spec.site]
    clouds = {"clouds": {f"safespring-{spec.site}": {
        "auth_type": "v3applicationcredential",
        "auth": {"auth_url": site.auth_url,
                 "application_credential_id": "REPLACE-WITH-YOUR-OWN-CREDENTIAL-ID",
                 "application_credential_secret": "REPLACE-WITH-YOUR-OWN-CREDENTIAL-SECRET"},
        "region_name": spec.site,
        "interface": "public",
        "identity_api_version": 3,
    }}}
    return ("# Copy to ~/.config/openstack/clouds.yaml (never into this directory's git history)\n"
            "# and put in an application credential of your own: individual and expiring.\n"
            + yaml.dump(clouds, Dumper=yaml.CSafeDumper, sort_keys=False))


GITIGNORE = """\
# Never commit state, credentials or local Terraform working files.
.terraform/
*.tfstate
*.tfstate.*
*.tfplan
clouds.yaml
secure.yaml
*.auto.tfvars
terraform.tfvars
*.tfvars.json
# Certificates and keys (a provided endpoint certificate goes onto the instance, not here).
*.pem
*.key
"""


def render(spec: Spec) -> dict[str, bytes]:
    """Every file of the blueprint for `spec`, keyed by path relative to the blueprint root."""
    groups: list[GroupView] = []
    files: dict[str, bytes] = {}
    for group in spec.groups:
        view, group_files = _group_view(spec, group)
        groups.append(view)
        files.update(group_files)
    site = platform().sites[spec.site]
    backup_site = platform().sites[spec.backup_site] if backup.enabled(spec) and spec.backup_site \
        else None
    rules = {f"{view.group.name}/{key}": {"group": view.group.name, **rule}
             for view in groups for key, rule in view.rules.items()}
    context = {
        "cidr_rules": {k: r for k, r in rules.items() if "remote_ip_prefix" in r},
        "group_rules": {k: r for k, r in rules.items() if "remote_group" in r},
        "spec": spec,
        "groups": groups,
        "buckets": [_bucket_view(spec, b) for b in spec.buckets],
        "aws_sites": ([(None, site)] if spec.buckets else []) + (
            [("backup", backup_site)] if backup_site else []),
        "backup_bucket": backup.bucket_name(spec) if backup_site else None,
        "backup_site": backup_site,
        "state_tags": {"ssb_deployment": spec.name, "ssb_classification": spec.classification,
                       registry.METADATA_KEY: registry.for_tags(
                           ("no-public-access", "tls-only", "versioning"))},
        "site": site,
        "applications": _applications(spec),
        "uses_openstack": bool(spec.groups or _applications(spec)),
        "persons": [a for a in spec.access if a.kind == "person"],
        "default_users": sorted({platform().default_users[g.image] for g in spec.groups
                                 if g.image in platform().default_users}),
        "logins": [(a, where) for a in spec.access
                   if (where := [g.name for g in spec.groups
                                 if a.name in {x.name for x in logins.logins(spec, g)}])],
        "version": __version__,
        "terraform_min": TERRAFORM_MIN,
        "tls_paths": lambda endpoint: tls_paths(endpoint.name),
        "collector": COLLECTOR_GROUP,
        "egress_group": EGRESS_GROUP,
        "egress_allow": egress.allowed(spec),
        "egress_reasons": REASONS,
        "booted_images": platform().guest_images_booted,
        "volume_ids": lambda view: {v.name: ref("module", m, "ids") for m, v, _ in view.volumes},
    }
    names = ["versions.tf", "providers.tf"]
    if spec.groups:
        names += ["main.tf", "moved.tf", "variables.tf", "outputs.tf"]
    if spec.buckets or backup_site:
        names.append("storage.tf")
    if backup_site:
        assert spec.backup is not None
        files["BACKUP.md"] = (restore_instructions(
            endpoint=backup_site.s3_endpoint, bucket=backup.bucket_name(spec),
            backup_site=backup_site.name, lock_mode=spec.backup.lock_mode,
            lock_days=spec.backup.lock_days, noncurrent_days=spec.backup.noncurrent_days,
            keep=spec.backup.span[1]).rstrip("\n") + "\n").encode("utf-8")
    if _applications(spec):
        names.append("access.tf")
    if spec.access:
        files["ACCESS.md"] = render_markdown("ACCESS.md.j2", **context).encode("utf-8")
    if spec.state.backend == "s3":
        names.append("backend.tf")
        files["bootstrap/main.tf"] = render_hcl("bootstrap.tf.j2", **context).encode("utf-8")
    for name in names:
        files[name] = render_hcl(f"{name}.j2", **context).encode("utf-8")
    files["README.md"] = render_markdown("README.md.j2", **context).encode("utf-8")
    files["clouds.yaml.example"] = _clouds_example(spec).encode("utf-8")
    files[".gitignore"] = GITIGNORE.encode("utf-8")
    files["ci/github-actions.yml"] = ci.github(spec, f"blueprints/{spec.name}")
    files["ci/gitlab-ci.yml"] = ci.gitlab(spec, f"blueprints/{spec.name}")
    for module in _modules_used(spec):
        files.update(_copy_module(module))
    return dict(sorted(files.items()))
