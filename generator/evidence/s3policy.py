"""Bucket policies as statements, whichever form they are written or planned in.

Read from what Checkov renders of a `jsonencode()` (a dict, or its text), from the expression
text of the .tf source (plan mode, when the policy names the bucket's ARN and is known only
after apply), or from an `aws_iam_policy_document` data source's statement blocks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from generator.evidence.values import Unresolved, blocks, literal, split_arguments, unwrap


def policy_statements(value: Any) -> list[dict[str, Any]] | Unresolved:
    """The Statement list of a bucket policy, whichever form Checkov rendered `jsonencode()` into.

    Seen: a dict whose Statement is the text `${concat([...],[])}`; the text
    `jsonencode({...})`; a plain dict. Only the statement structure is needed, so references
    left inside (Resource ARNs) do not matter; anything that does not parse is Unresolved.
    """
    document: Any = value
    while isinstance(document, list) and len(document) == 1:
        document = document[0]
    if isinstance(document, str):
        text = document.strip()
        if text.startswith("jsonencode(") and text.endswith(")"):
            text = text[len("jsonencode("):-1]
        try:
            document = json.loads(text)
        except ValueError:
            document = literal(text)
    if not isinstance(document, Mapping):
        return Unresolved(value)
    found = document.get("Statement")
    if isinstance(found, str):
        found = _certain_statements(found.strip())
    if isinstance(found, Mapping):
        found = [found]
    if isinstance(found, list) and found and all(isinstance(st, Mapping) for st in found):
        return [dict(st) for st in found]
    return Unresolved(value)


def _certain_statements(text: str) -> list[Any] | None:
    """The statements `concat(...)` always holds: those of its literal list arguments
    (a conditional argument may add more; only the certain ones count as evidence)."""
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1].strip()
    if not text.startswith("concat("):
        return None
    found: list[Any] = []
    for arg in split_arguments(text) or []:
        value = literal(arg) if arg.startswith("[") else None
        if isinstance(value, list):
            found.extend(value)
    return found or None


def policy_from_source(text: Any) -> list[dict[str, Any]] | Unresolved:
    """Statements of a policy expression as written in the .tf source (Checkov's HCL parser
    text, `${jsonencode({...})}`), for a plan where the policy is known only after apply."""
    if not isinstance(text, str):
        return Unresolved(text, "not-in-plan")
    body = text.strip()
    if body.startswith("${") and body.endswith("}"):
        body = body[2:-1].strip()
    if body.startswith("jsonencode(") and body.endswith(")"):
        body = body[len("jsonencode("):-1]
    document = literal(body)
    if document is None:
        try:
            document = json.loads(body)
        except ValueError:
            return Unresolved(text, "not-in-plan")
    return policy_statements(document)


def statements_of_policy_document(conf: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`data "aws_iam_policy_document"` statement blocks as policy JSON statements."""
    out = []
    for st in blocks(conf, "statement"):
        statement: dict[str, Any] = {"Effect": unwrap(st.get("effect")) or "Allow",
                                     "Action": unwrap(st.get("actions")) or []}
        principals = blocks(st, "principals")
        if principals:
            kind, ids = unwrap(principals[0].get("type")), unwrap(principals[0].get("identifiers"))
            statement["Principal"] = "*" if kind == "*" else {kind: ids}
        condition: dict[str, Any] = {}
        for c in blocks(st, "condition"):
            values = unwrap(c.get("values"))
            condition.setdefault(unwrap(c.get("test")), {})[unwrap(c.get("variable"))] = values
        if condition:
            statement["Condition"] = condition
        out.append(statement)
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def denies_plain_transport(statement: dict[str, Any]) -> bool:
    """A Deny of s3:* to every principal when aws:SecureTransport is false."""
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
