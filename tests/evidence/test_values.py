"""Values as checks read them: what Checkov leaves as text, maps, booleans, instances."""

from __future__ import annotations

import pytest

from generator.evidence.values import (
    MISSING,
    Unresolved,
    as_bool,
    as_int,
    attr,
    evaluate_leftover,
    has_no_instances,
    holds_personal_data,
    is_unresolved_text,
    map_value,
)


@pytest.mark.parametrize(("text", "expanded", "value"), [
    ('try(ingress,"ingress")', True, "ingress"),           # substituted, unquoted by Checkov
    ('try(each.value.direction,"ingress")', True, "ingress"),  # the attribute is absent
    ("try(each.value.cidr,None)", True, None),
    ("try(0.0.0.0/0,None)", True, "0.0.0.0/0"),
    ("try(22,None)", True, 22),
    ('try(each.value.direction,"ingress")', False, Unresolved),  # not expanded: cannot tell
    ("try(var.x,1)", True, Unresolved),
    ("try(each.value.x,var.y)", True, Unresolved),
    ('lookup({\'size\': \'50\'},"size",None)', True, "50"),
    ('lookup({\'size\': \'50\'},"encryption",None)', True, None),
    ('lookup({\'size\': \'50\'},"encryption","luks-tang")', True, "luks-tang"),
    ('lookup(var.m,"encryption",None)', True, Unresolved),
])
def test_leftover_functions(text: str, expanded: bool, value: object) -> None:
    found = evaluate_leftover(text, expanded=expanded)
    if value is Unresolved:
        assert isinstance(found, Unresolved) and "scan DIR --plan" in str(found)
    else:
        assert found == value


def test_attr_reads_a_try_as_terraform_would() -> None:
    assert attr({"remote_ip_prefix": ["try(each.value.cidr,None)"]}, "remote_ip_prefix") is MISSING
    assert attr({"protocol": ["try(tcp,None)"]}, "protocol") == "tcp"
    assert attr({"size": [None]}, "size") is MISSING
    assert attr({}, "size") is MISSING
    assert isinstance(attr({"size": ["${var.size}"]}, "size"), Unresolved)


@pytest.mark.parametrize(("conf", "value"), [
    ({"metadata": [{"ssb_encryption": "luks-tang"}]}, "luks-tang"),
    ({"metadata": [{"other": "x"}]}, MISSING),
    ({"metadata": ["merge({'a': 'b'},{'ssb_encryption': luks-tang})"]}, "luks-tang"),
    ({"metadata": ["merge({'a': 'b'},{'ssb_encryption': 'none'})"]}, "none"),
    ({"metadata": ["merge(var.metadata,{'a': 'b'})"]}, Unresolved),  # may come from var.metadata
    ({"metadata": [{"ssb_encryption": "${var.encryption}"}]}, Unresolved),
    ({}, MISSING),
])
def test_map_values_in_both_shapes_checkov_leaves(conf: dict, value: object) -> None:
    found = map_value(conf, "metadata", "ssb_encryption")
    assert isinstance(found, Unresolved) if value is Unresolved else found == value


def test_no_classification_evidence_counts_as_personal_data() -> None:
    assert holds_personal_data({}, "metadata")
    assert holds_personal_data({"metadata": [{"ssb_classification": "${var.c}"}]}, "metadata")
    assert not holds_personal_data({"metadata": [{"ssb_classification": "internal"}]}, "metadata")


@pytest.mark.parametrize(("value", "boolean", "integer"), [
    (True, True, Unresolved), ("true", True, Unresolved), ("False", False, Unresolved),
    ("22", Unresolved, 22), (22.0, Unresolved, 22), ("var.x", Unresolved, Unresolved),
    (MISSING, None, None),
])
def test_booleans_and_numbers_as_checkov_writes_them(value: object, boolean: object,
                                                      integer: object) -> None:
    for read, expected in ((as_bool, boolean), (as_int, integer)):
        found = read(value)
        assert isinstance(found, Unresolved) if expected is Unresolved else found == expected


@pytest.mark.parametrize(("conf", "none"), [
    ({"for_each": [{}]}, True), ({"for_each": [[]]}, True), ({"count": [0]}, True),
    ({"count": ["0"]}, True), ({"count": [2]}, False), ({"for_each": ["var.x"]}, False), ({}, False),
])
def test_resources_that_create_nothing(conf: dict, none: bool) -> None:
    assert has_no_instances(conf) is none


@pytest.mark.parametrize(("text", "unresolved"), [
    ("10.0.0.0/8", False), ("${var.x}", True), ("each.value.port", True), ("module.a.id", True),
    ("openstack_networking_secgroup_v2.web.id", True), ("cond ? a : b", True),
    ("b2.c2r4", False), ("startswith(b2.c4r16,\"b2.\")", True),
])
def test_what_counts_as_a_leftover_expression(text: str, unresolved: bool) -> None:
    assert is_unresolved_text(text) is unresolved
