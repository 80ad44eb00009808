"""CKV_GDPR_9: the bucket policy denies every request that does not arrive over TLS.

The policy is read as Terraform plans it when it is known at plan time. A policy that names the
bucket's ARN is known only after apply: its statements are then read from the .tf source (a
`jsonencode()` expression, or the `aws_iam_policy_document` data source it points at); only
statements that are there whatever the variables are count (the literal lists of a `concat()`).
"""

from __future__ import annotations

import os
import re
from typing import Any

from generator.evidence.check import PASS, ResourceCheck, Verdict, fail, unknown
from generator.evidence.hcl import block_config
from generator.evidence.s3policy import (
    denies_plain_transport,
    policy_from_source,
    policy_statements,
    statements_of_policy_document,
)
from generator.evidence.scope import Scope
from generator.evidence.source import find_block, trace_variable
from generator.evidence.values import Unresolved, unwrap

_DOCUMENT = re.compile(r"data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json")


def _hcl_document(scope: Scope, name: str) -> list[dict[str, Any]] | None:
    """The policy document data source of the same module, from Checkov's graph."""
    me = scope.node
    directory = os.path.dirname(str(me.get("file_path_"))) if me else None
    for node in scope.nodes:
        if node.get("block_type_") == "data" \
                and node.get("block_name_") == f"aws_iam_policy_document.{name}" \
                and os.path.dirname(str(node.get("file_path_"))) == directory:
            return statements_of_policy_document(block_config(node))
    return None


def _source_statements(scope: Scope, unresolved: Unresolved) -> list[dict[str, Any]] | Unresolved:
    """Plan mode, policy known only after apply: its statements from the .tf source."""
    block = scope.block()
    if block is None or scope.resource is None or scope.source_root is None:
        return Unresolved(f"{unresolved.raw}; the .tf source that writes it is not at hand", "after-apply")
    modules = tuple(n for n, _ in scope.resource.modules)
    text, directory, _ = trace_variable(scope.source_root, scope.plan, modules, block.raw("policy"))
    document = _DOCUMENT.search(text) if isinstance(text, str) else None
    if document and directory is not None:
        data = find_block(directory, "data", "aws_iam_policy_document", document.group(1))
        if data is not None:
            return statements_of_policy_document(data.parsed())
    return policy_from_source(text)


class BucketPolicyDeniesInsecureTransport(ResourceCheck):
    ID = "CKV_GDPR_9"

    def judge(self, scope: Scope) -> Verdict:
        policy = unwrap(scope.conf.get("policy"))
        document = _DOCUMENT.search(policy) if isinstance(policy, str) else None
        if isinstance(policy, Unresolved) and scope.mode == "plan":
            found: Any = _source_statements(scope, policy)
        elif document and scope.mode == "hcl":
            found = _hcl_document(scope, document.group(1)) or Unresolved(policy)
        else:
            found = policy_statements(scope.conf.get("policy"))
        if isinstance(found, Unresolved):
            return unknown(f"the policy is {found}")
        if any(denies_plain_transport(s) for s in found):
            return PASS
        return fail("no statement denies s3:* to every principal when aws:SecureTransport is false: "
                    "plain-HTTP requests are not refused")


check = BucketPolicyDeniesInsecureTransport()
