"""CKV_GDPR_16: Terraform state is stored only on Safespring Storage (GDPR Art. 44).

State holds every attribute of every resource (application credential secrets, addresses,
metadata): it is personal data's neighbour and must stay in Sweden/Norway too. The backend is in
the `terraform` block, which Checkov 3.3.30 hands to no check type (resource, data, provider and
module only), so this is a provider check that reads the root module's `terraform` blocks from
the scan graph. It reports once per root module, on its first default provider block (by file
and line); the other provider blocks of that root get no result. A root without a backend (or
with `backend "local"`) keeps state on the operator's machine: nothing to check (bootstrap/).

Backend blocks cannot hold references, so what is read is what `terraform init` uses, except
values given with `terraform init -backend-config=...`, which no scanner can see.
"""

from __future__ import annotations

import posixpath
from typing import Any
from urllib.parse import urlparse

from generator.evidence.check import NONE, PASS, ProviderCheck, Verdict, fail, unknown
from generator.evidence.hcl import block_config, entity_file, root_module_blocks, scan_root
from generator.evidence.scope import Scope, provider_configured, provider_key
from generator.evidence.sites import site_of_s3_endpoint
from generator.evidence.source import blocks_in
from generator.evidence.values import Unresolved, blocks, unwrap

SAFESPRING_DOMAIN = ".safedc.net"
# Pre-1.6 endpoint attributes of the S3 backend, each a place state or locks could go.
LEGACY_ENDPOINTS = ("endpoint", "dynamodb_endpoint", "iam_endpoint", "sts_endpoint")


def _safespring_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return parsed.scheme == "https" and (parsed.hostname or "").endswith(SAFESPRING_DOMAIN)


def s3_backend_problem(backend: dict[str, Any]) -> str | None:
    """None when an S3 backend block talks to Safespring only, else why not."""
    endpoints = blocks(backend, "endpoints")
    if "endpoints" in backend and not endpoints:
        # Checkov may keep an object attribute as a bare dict.
        value = unwrap(backend["endpoints"])
        endpoints = [value] if isinstance(value, dict) else []
    s3 = unwrap(endpoints[0].get("s3")) if endpoints else None
    if site_of_s3_endpoint(s3) is None:
        shown = s3 if s3 is not None else "missing (the backend would use AWS S3)"
        return f"backend s3 endpoints.s3 is {shown}, not a Safespring S3 endpoint"
    for name, value in (endpoints[0].items() if endpoints else []):
        if name.startswith("__"):
            continue
        if not _safespring_url(unwrap(value)):
            return f"backend s3 endpoints.{name} is {unwrap(value)}, not Safespring"
    for name in LEGACY_ENDPOINTS:
        value = unwrap(backend.get(name))
        if value not in (None, "") and not _safespring_url(value):
            return f"backend s3 {name} is {value}, not Safespring"
    if "dynamodb_table" in backend and backend["dynamodb_table"] not in ([None], None, [""]):
        return "backend s3 dynamodb_table: the lock table would be in AWS DynamoDB (use use_lockfile)"
    return None


def backend_problem(terraform_blocks: list[dict[str, Any]]) -> str | bool | None:
    """None if state stays on Safespring, a reason if not, False if there is no remote state."""
    found: list[tuple[str, dict[str, Any]]] = []
    for block in terraform_blocks:
        if block.get("cloud") not in (None, [], [None]):
            return "terraform { cloud } keeps state in HCP Terraform, outside Safespring"
        for backend in block.get("backend") or []:
            if isinstance(backend, dict):
                found += [(kind, conf if isinstance(conf, dict) else {}) for kind, conf in backend.items()]
    if not found:
        return False
    if len(found) > 1:
        return "more than one backend block"
    kind, conf = found[0]
    if kind == "local":
        return False
    if kind != "s3":
        return f"backend \"{kind}\" is not Safespring Storage"
    return s3_backend_problem(conf)


class StateBackendOnSafespring(ProviderCheck):
    ID = "CKV_GDPR_16"

    @staticmethod
    def _verdict(terraform: list[dict[str, Any]]) -> Verdict:
        why = backend_problem(terraform)
        if why is False:
            return NONE
        return fail(str(why)) if why else PASS

    def _scan_plan(self, scope: Scope) -> Verdict:
        """The plan JSON records no backend: read the root module's terraform blocks from the
        source the plan was made from (backend blocks hold no references)."""
        key = provider_key(scope.address)
        root = scope.source_root
        if root is None:
            defaults = sorted(k for k in scope.plan.provider_configs()
                              if "." not in k and ":" not in k and provider_configured(scope, k))
            if not defaults or key != defaults[0]:
                return NONE
            return unknown(f"the backend is {Unresolved('terraform { backend }', 'not-in-plan')}")
        found = blocks_in(root)
        defaults = sorted((b for b in found if b.kind == "provider" and not b.raw("alias")),
                          key=lambda b: (str(b.file), b.start))
        if "." in key or not defaults or defaults[0].labels != (key,):
            return NONE
        return self._verdict([b.parsed() for b in found if b.kind == "terraform"])

    def judge(self, scope: Scope, provider: str) -> Verdict:
        if scope.mode == "plan":
            return self._scan_plan(scope)
        nodes = scope.nodes
        relative = entity_file(scope.entity_path)
        root = scan_root(nodes, relative)
        if root is None:
            return unknown("scan graph unavailable: cannot see the terraform block")
        directory = posixpath.dirname(root + relative)
        defaults = sorted(
            (n for n in root_module_blocks(nodes, directory, "provider")
             if "." not in n.get("block_name_", "")),
            key=lambda n: (str(n.get("file_path_")), int(n.get("__start_line__") or 0)))
        if "alias" in scope.raw or not defaults:
            return NONE
        first = defaults[0]
        if (first.get("file_path_"), int(first.get("__start_line__") or 0)) != \
                (root + relative, int(unwrap(scope.raw.get("__start_line__")) or 0)):
            return NONE
        return self._verdict([block_config(n) for n in root_module_blocks(nodes, directory, "terraform")])


check = StateBackendOnSafespring()
