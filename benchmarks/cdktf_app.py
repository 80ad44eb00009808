"""A CDK for Terraform (Python) app that synthesises the infrastructure of a spec, for comparison.

Run as `python benchmarks/cdktf_app.py SPEC OUTDIR`: it reads the spec with plain PyYAML (no
validation, no GDPR rules), builds one construct per Terraform resource the generated blueprint
plans (security groups and every rule, instances, server groups, volumes, attachments,
application credentials, and the S3 resources of each bucket and of the backup bucket) and
calls `app.synth()`. It prints one JSON line: resource count and phase times.

It is what a hand-written cdktf stack of the same deployment would cost, not a port of the
generator: it renders no guest configuration (cloud-init is referenced with `file()`), no
README, report or CI files, and checks nothing. The aws bindings are not installed, so the S3
resources use cdktf's generic `TerraformResource` (the same construct work per resource).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

START = time.perf_counter()

# jsii prints a banner about Node 20 being past its end of life on every run; the runtime works.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import yaml  # noqa: E402
from cdktf import App, TerraformResource, TerraformStack  # noqa: E402
from cdktf_cdktf_provider_openstack.blockstorage_volume_v3 import BlockstorageVolumeV3  # noqa: E402
from cdktf_cdktf_provider_openstack.compute_instance_v2 import (  # noqa: E402
    ComputeInstanceV2,
    ComputeInstanceV2BlockDevice,
    ComputeInstanceV2Network,
    ComputeInstanceV2SchedulerHints,
)
from cdktf_cdktf_provider_openstack.compute_servergroup_v2 import ComputeServergroupV2  # noqa: E402
from cdktf_cdktf_provider_openstack.compute_volume_attach_v2 import ComputeVolumeAttachV2  # noqa: E402
from cdktf_cdktf_provider_openstack.data_openstack_images_image_v2 import (  # noqa: E402
    DataOpenstackImagesImageV2,
)
from cdktf_cdktf_provider_openstack.identity_application_credential_v3 import (  # noqa: E402
    IdentityApplicationCredentialV3,
)
from cdktf_cdktf_provider_openstack.networking_secgroup_rule_v2 import (  # noqa: E402
    NetworkingSecgroupRuleV2,
)
from cdktf_cdktf_provider_openstack.networking_secgroup_v2 import NetworkingSecgroupV2  # noqa: E402
from cdktf_cdktf_provider_openstack.provider import OpenstackProvider  # noqa: E402
from constructs import Construct  # noqa: E402

IMPORTED = time.perf_counter()

WORLD = (("IPv4", "0.0.0.0/0"), ("IPv6", "::/0"))
OUTBOUND = (("tcp", 443), ("tcp", 80), ("udp", 123), ("udp", 53))
COLLECTOR = "log-collector"
S3_TYPES = ("aws_s3_bucket", "aws_s3_bucket_versioning", "aws_s3_bucket_public_access_block",
            "aws_s3_bucket_object_lock_configuration", "aws_s3_bucket_lifecycle_configuration",
            "aws_s3_bucket_policy")


def groups_of(spec: dict) -> list[dict]:
    """The spec's groups plus the log collector (on by default for personal data), as the
    generator plans them."""
    groups = [dict(g) for g in spec.get("instances", [])]
    personal = spec.get("data", {}).get("personal", True)
    if spec.get("logging", {}).get("central", personal):
        admins = list(dict.fromkeys(c for g in groups for c in g.get("ssh_from", [])))
        groups.append({"name": COLLECTOR, "count": 1, "flavor": "b2.c2r4", "image": "ubuntu-24.04",
                       "volumes": [{"name": "logs", "size": 50}], "ssh_from": admins,
                       "allow_from": [{"instance": g["name"], "port": 6514} for g in groups]})
    return groups


class Deployment(TerraformStack):
    """One stack: the whole deployment, one construct per planned resource."""

    def __init__(self, scope: Construct, spec: dict) -> None:
        super().__init__(scope, spec["name"])
        name = spec["name"]
        OpenstackProvider(self, "openstack", cloud=f"safespring-{spec['site']}")
        groups = groups_of(spec)
        world_ports = {e["instance"]: 443 for e in spec.get("endpoints", [])}
        secgroups = {g["name"]: NetworkingSecgroupV2(
            self, f"sg-{g['name']}", name=f"{name}-{g['name']}", delete_default_rules=True,
            description=f"Instance group {g['name']} of {name}: only what the spec opens")
            for g in groups}
        inbound: dict[str, list[tuple[str, dict]]] = {}
        for g in groups:
            for flow in g.get("allow_from", []):
                inbound.setdefault(flow["instance"], []).append((g["name"], flow))
        for g in groups:
            sg = secgroups[g["name"]]
            rules: list[dict] = []
            for cidr in g.get("ssh_from", []):
                rules.append({"direction": "ingress", "ethertype": "IPv6" if ":" in cidr else "IPv4",
                              "protocol": "tcp", "port": 22, "remote_ip_prefix": cidr})
            if g["name"] in world_ports:
                rules += [{"direction": "ingress", "ethertype": e, "protocol": "tcp", "port": 443,
                           "remote_ip_prefix": c} for e, c in WORLD]
            for flow in g.get("allow_from", []):
                rules += [{"direction": "ingress", "ethertype": e, "protocol": flow.get("protocol", "tcp"),
                           "port": flow["port"], "remote_group": flow["instance"]} for e, _ in WORLD]
            for other, flow in inbound.get(g["name"], []):
                rules += [{"direction": "egress", "ethertype": e, "protocol": flow.get("protocol", "tcp"),
                           "port": flow["port"], "remote_group": other} for e, _ in WORLD]
            for protocol, port in OUTBOUND:
                rules += [{"direction": "egress", "ethertype": e, "protocol": protocol, "port": port,
                           "remote_ip_prefix": c} for e, c in WORLD]
            for i, rule in enumerate(rules):
                remote = rule.get("remote_group")
                NetworkingSecgroupRuleV2(
                    self, f"rule-{g['name']}-{i}", security_group_id=sg.id,
                    direction=rule["direction"], ethertype=rule["ethertype"],
                    protocol=rule["protocol"], port_range_min=rule["port"],
                    port_range_max=rule["port"], remote_ip_prefix=rule.get("remote_ip_prefix"),
                    remote_group_id=secgroups[remote].id if remote else None)
            self.instances(name, g, sg)
        for entry in spec.get("access", []):
            if entry["kind"] == "application":
                IdentityApplicationCredentialV3(self, f"cred-{entry['name']}",
                                                name=f"{name}-{entry['name']}",
                                                expires_at=f"{entry['expires']}T23:59:59Z")
        buckets = [b["name"] for b in spec.get("buckets", [])]
        if spec.get("backup") is not None or spec.get("data", {}).get("personal", True):
            buckets.append("backup")
        for bucket in buckets:
            for resource_type in S3_TYPES:
                TerraformResource(self, f"{resource_type}-{bucket}",
                                  terraform_resource_type=resource_type).add_override(
                    "bucket", f"{name}-{bucket}")

    def instances(self, name: str, g: dict, sg: NetworkingSecgroupV2) -> None:
        """A group's instances (with a server group when more than one), volumes, attachments."""
        count = g.get("count", 1)
        image = DataOpenstackImagesImageV2(self, f"image-{g['name']}", name=g["image"],
                                           most_recent=True)
        hints = None
        if count > 1:
            server_group = ComputeServergroupV2(self, f"sg-hint-{g['name']}",
                                                name=f"{name}-{g['name']}",
                                                policies=["anti-affinity"])
            hints = [ComputeInstanceV2SchedulerHints(group=server_group.id)]
        for n in range(1, count + 1):
            instance = ComputeInstanceV2(
                self, f"instance-{g['name']}-{n}", name=f"{name}-{g['name']}-{n}",
                flavor_name=g["flavor"], security_groups=[sg.name], scheduler_hints=hints,
                user_data=f'${{base64gzip(file("cloud-init/{g["name"]}.yaml"))}}',
                network=[ComputeInstanceV2Network(name=g.get("network", "default"))],
                block_device=[ComputeInstanceV2BlockDevice(
                    uuid=image.id, source_type="image", destination_type="volume",
                    volume_size=g.get("boot_volume_size", 20), boot_index=0,
                    delete_on_termination=True)],
                metadata={"deployment": name, "group": g["name"]})
            for v in g.get("volumes", []):
                volume = BlockstorageVolumeV3(self, f"volume-{g['name']}-{v['name']}-{n}",
                                              name=f"{name}-{g['name']}-{v['name']}-{n}",
                                              size=v["size"], volume_type=v.get("type", "fast"))
                ComputeVolumeAttachV2(self, f"attach-{g['name']}-{v['name']}-{n}",
                                      instance_id=instance.id, volume_id=volume.id)


def main(argv: list[str]) -> int:
    spec_path, outdir = Path(argv[0]), Path(argv[1])
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    app = App(outdir=str(outdir))
    Deployment(app, spec)
    built = time.perf_counter()
    app.synth()
    done = time.perf_counter()
    stacks = list((outdir / "stacks").glob("*/cdk.tf.json"))
    synthesised = json.loads(stacks[0].read_text(encoding="utf-8"))
    resources = sum(len(v) for v in synthesised.get("resource", {}).values())
    print(json.dumps({"resources": resources, "import_s": round(IMPORTED - START, 3),
                      "construct_s": round(built - IMPORTED, 3), "synth_s": round(done - built, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
