"""The evidence readers the checks share: what Checkov leaves as text, user data as the guest
reads it, blocks of the .tf source behind a plan, and a user_data planned as its SHA-1."""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.api import scan_plan_data
from generator.policies.evidence import MISSING, Unresolved, attr, evaluate_leftover
from generator.policies.evidence_source import scan_blocks
from generator.policies.gdpr_instance_logging_evidence import decode_user_data

from ..conftest import ROOT

BLUEPRINT_VARIABLES = {"key_pair": "offline-test"}


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


def test_user_data_is_read_as_the_guest_reads_it() -> None:
    text = "#cloud-config\npackages: [aide]\n"
    assert decode_user_data(text) == text
    assert decode_user_data(base64.b64encode(text.encode()).decode()) == text
    assert decode_user_data(base64.b64encode(gzip.compress(text.encode())).decode()) == text


def test_blocks_are_found_around_strings_heredocs_and_comments() -> None:
    text = ('# a comment with a { brace\nresource "a" "b" {\n  x = "}${jsonencode({a = "}"})}"\n'
            '  y = <<EOT\n}}}\nEOT\n  /* } */\n}\n\nmodule "m" {\n  source = "./m"\n}\n')
    found = [(kind, labels, text[start:end].strip().count("\n"))
             for kind, labels, start, end in scan_blocks(text)]
    assert found == [("resource", ("a", "b"), 6), ("module", ("m",), 2)]


def _with_hashed_user_data(plan: dict) -> dict:
    """The plan as the real OpenStack provider makes it: user_data planned as its SHA-1."""
    doc = copy.deepcopy(plan)

    def walk(module: dict) -> None:
        for res in module.get("resources") or []:
            values = res.get("values") or {}
            if res.get("type") == "openstack_compute_instance_v2" and values.get("user_data"):
                values["user_data"] = hashlib.sha1(values["user_data"].encode()).hexdigest()
        for child in module.get("child_modules") or []:
            walk(child)

    walk(doc["planned_values"]["root_module"])
    return doc


def test_user_data_planned_as_its_hash_is_read_from_the_file_it_is_built_from(
        planned: Callable[..., dict], tmp_path: Path) -> None:
    root = ROOT / "blueprints" / "patient-portal"
    hashed = _with_hashed_user_data(planned(root, BLUEPRINT_VARIABLES))
    result = scan_plan_data(hashed, root)
    rows = {(f.resource, f.status) for f in result.findings if f.check_id == "CKV_GDPR_17"}
    assert rows and {status for _, status in rows} == {"passed"}
    # Without the .tf source the file cannot be found: it fails and says what is missing.
    stray = tmp_path / "elsewhere"
    stray.mkdir()
    result = scan_plan_data(hashed, stray)
    details = {"; ".join(f.details) for f in result.findings if f.check_id == "CKV_GDPR_17"}
    assert details == {"user_data is planned as its SHA-1 (the OpenStack provider stores only the hash): "
                       "scan with the .tf source at hand so the file it is built from can be read"}
