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

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from generator.policies.evidence import (
    Scope,
    Unresolved,
    block_config,
    guideline,
    has_no_instances,
    is_expanded,
    policy_from_source,
    policy_statements,
    severity,
    statements_of_policy_document,
    unwrap,
)

ID = "CKV_GDPR_9"
_DOCUMENT = re.compile(r"data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _denies_plain_transport(statement: dict[str, Any]) -> bool:
    if statement.get("Effect") != "Deny":
        return False
    principal = statement.get("Principal")
    if not (principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS")))):
        return False
    if not any(a in ("s3:*", "*") for a in _as_list(statement.get("Action"))):
        return False
    condition = statement.get("Condition") or {}
    secure = (condition.get("Bool") or {}).get("aws:SecureTransport") if isinstance(condition, dict) else None
    return [str(v).lower() for v in _as_list(secure)] == ["false"]


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


def _source_statements(scope: Scope, unknown: Unresolved) -> list[dict[str, Any]] | Unresolved:
    """Plan mode, policy known only after apply: its statements from the .tf source."""
    from generator.policies.evidence_source import find_block, trace_variable

    block = scope.block()
    if block is None:
        return Unresolved(f"{unknown.raw}; the .tf source that writes it is not at hand", "after-apply")
    modules = tuple(n for n, _ in scope.resource.modules)
    text, directory, _ = trace_variable(scope.source_root, scope.plan, modules, block.raw("policy"))
    document = _DOCUMENT.search(text) if isinstance(text, str) else None
    if document and directory is not None:
        data = find_block(directory, "data", "aws_iam_policy_document", document.group(1))
        if data is not None:
            return statements_of_policy_document(data.parsed())
    return policy_from_source(text)


class BucketPolicyDeniesInsecureTransport(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure bucket policies deny all requests with aws:SecureTransport = false",
            id=ID, categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_s3_bucket_policy"], guideline=guideline(ID))
        self.severity = severity("HIGH")

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if has_no_instances(conf):
            return CheckResult.UNKNOWN
        if not is_expanded(conf):
            self.details.append("count/for_each not expanded by Checkov's HCL evaluation; scanning "
                                "the plan (scan DIR --plan) lets Terraform expand it")
            return CheckResult.FAILED
        scope = Scope(self, conf)
        policy = unwrap(scope.conf.get("policy"))
        document = _DOCUMENT.search(policy) if isinstance(policy, str) else None
        if isinstance(policy, Unresolved) and scope.mode == "plan":
            found: Any = _source_statements(scope, policy)
        elif document and scope.mode == "hcl":
            found = _hcl_document(scope, document.group(1)) or Unresolved(policy)
        else:
            found = policy_statements(scope.conf.get("policy"))
        if isinstance(found, Unresolved):
            self.details.append(f"the policy is {found}")
            return CheckResult.FAILED
        if any(_denies_plain_transport(s) for s in found):
            return CheckResult.PASSED
        self.details.append("no statement denies s3:* to every principal when aws:SecureTransport "
                            "is false: plain-HTTP requests are not refused")
        return CheckResult.FAILED


check = BucketPolicyDeniesInsecureTransport()
