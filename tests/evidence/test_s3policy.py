"""Bucket policies as statements, in each form Checkov or the source gives them."""

from __future__ import annotations

import json

from generator.evidence.s3policy import denies_plain_transport, policy_from_source, policy_statements
from generator.evidence.values import Unresolved

DENY = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def test_statements_from_a_dict_a_json_text_and_jsonencode_text() -> None:
    document = {"Version": "2012-10-17", "Statement": [DENY]}
    assert policy_statements([document]) == [DENY]
    assert policy_statements([json.dumps(document)]) == [DENY]
    assert policy_statements([f"jsonencode({json.dumps(document)})"]) == [DENY]
    assert isinstance(policy_statements(["${data.x.y.json}"]), Unresolved)


def test_only_the_literal_lists_of_a_concat_count() -> None:
    document = {"Statement": "${concat([{'Effect': 'Deny', 'Principal': '*', 'Action': 's3:*', "
                             "'Condition': {'Bool': {'aws:SecureTransport': 'false'}}}],"
                             "var.extra ? [] : [])}"}
    assert policy_statements([document]) == [DENY]


def test_a_policy_from_its_source_text() -> None:
    # As Checkov's HCL parser gives the expression of a block (generator/evidence/source.py).
    text = "${jsonencode({'Statement': [{'Effect': 'Deny', 'Principal': '*'}]})}"
    assert policy_from_source(text) == [{"Effect": "Deny", "Principal": "*"}]
    assert isinstance(policy_from_source(None), Unresolved)
    assert isinstance(policy_from_source("${data.aws_iam_policy_document.x.json}"), Unresolved)


def test_what_counts_as_denying_plain_transport() -> None:
    assert denies_plain_transport(DENY)
    assert denies_plain_transport({**DENY, "Principal": {"AWS": ["*"]}, "Action": ["s3:*"]})
    assert not denies_plain_transport({**DENY, "Effect": "Allow"})
    assert not denies_plain_transport({**DENY, "Action": "s3:GetObject"})
    assert not denies_plain_transport({**DENY, "Condition": {"Bool": {"aws:SecureTransport": "true"}}})
