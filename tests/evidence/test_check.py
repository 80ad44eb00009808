"""The base of the checks: metadata as data, Checkov's render limit, verdicts."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import pytest

from generator import checks


def test_metadata_is_complete_or_refused() -> None:
    assert checks.check("CKV_GDPR_1") is not None and checks.check("CKV_AWS_18") is None
    with pytest.raises(ValueError, match="CKV_GDPR_99"):
        checks._load("checks:\n  CKV_GDPR_99:\n    name: Ensure x\n    severity: SEVERE\n"
                     "    category: NETWORKING\n    resources: [a]\n    remediation: y\n")
    with pytest.raises(ValueError, match="CKV_GDPR_98"):
        checks._load("checks:\n  CKV_GDPR_98:\n    name: Ensure x\n    severity: LOW\n"
                     "    category: NETWORKING\n    remediation: y\n")


def test_loading_the_pack_lifts_checkovs_render_limit_and_parse_timeout() -> None:
    import generator.evidence.check as base

    renderer = importlib.import_module("checkov.terraform.graph_builder.variable_rendering.renderer")
    if os.environ.get("CHECKOV_RENDER_MAX_LEN") == str(base.RENDER_MAX_LEN):
        assert renderer.CHECKOV_RENDER_MAX_LEN == base.RENDER_MAX_LEN
    # In a fresh process, whichever is imported first.
    import subprocess

    for first in ("generator.evidence.check", "checkov.terraform.graph_builder.variable_rendering.renderer"):
        code = (f"import {first}, generator.evidence.check, "
                "checkov.terraform.graph_builder.variable_rendering.renderer as r, "
                "checkov.terraform.graph_builder.utils as u, "
                "checkov.common.util.env_vars_config as c; print(r.CHECKOV_RENDER_MAX_LEN, "
                "u.CHECKOV_RENDER_MAX_LEN, c.env_vars_config.HCL_PARSE_TIMEOUT_SEC)")
        env = {k: v for k, v in os.environ.items()
               if k not in ("CHECKOV_RENDER_MAX_LEN", "HCL_PARSE_TIMEOUT_SEC")}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                             check=True)
        assert out.stdout.split() == [str(base.RENDER_MAX_LEN)] * 2 + ["0"], first
    # A limit the user sets is kept.
    env = {**os.environ, "CHECKOV_RENDER_MAX_LEN": "500"}
    code = ("import generator.evidence.check, "
            "checkov.terraform.graph_builder.variable_rendering.renderer as r; "
            "print(r.CHECKOV_RENDER_MAX_LEN)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "500"


def test_a_rule_whose_remote_group_is_not_known_here_is_unknown_never_any_address() -> None:
    """A protocol without ports towards a remote group chosen by a conditional local: members of
    a group, or nobody, never the internet (it was "every port from any address")."""
    from generator.evidence.secgroup import Rule
    from generator.evidence.values import MISSING, Unresolved
    from generator.policies.ckv_gdpr_2_secgroup_no_world_ingress import judge_rule

    pending = Unresolved("local.remote_group", "after-apply")
    verdict = judge_rule(Rule("", "ingress", "tcp", None, None, MISSING, pending))
    assert verdict.result == "unknown", verdict
    assert "remote_group_id is known only after apply" in verdict.details[0]
    # No remote at all is still every port from any address.
    open_rule = judge_rule(Rule("", "ingress", "tcp", None, None, MISSING, MISSING))
    assert open_rule.result == "failed" and "any address" in open_rule.details[0]


def test_plan_mode_findings_never_advise_scanning_the_plan() -> None:
    from generator.evidence.check import Verdict, in_mode
    from generator.evidence.values import Unresolved

    expression = Unresolved('var.net["cidr"]')
    said = Verdict("unknown", (f"remote_ip_prefix is {expression}",))

    class Mode:
        def __init__(self, plan: object) -> None:
            self.plan = plan

    assert in_mode(said, Mode(None)) == said  # type: ignore[arg-type]
    planned = in_mode(said, Mode(object()))  # type: ignore[arg-type]
    assert planned.details == ('remote_ip_prefix is an expression read from the .tf source '
                               '(var.net["cidr"]), whose value the plan does not give this check',)


def test_a_rule_map_beyond_astevals_statement_limit_is_expanded(tmp_path: Path) -> None:
    """Checkov evaluates a value's text with asteval, which refuses statements over 50,000
    characters: the rule map of a 30-group blueprint stayed text and its rules unexpanded
    (UNKNOWN in HCL mode, found by the property test). The pack lifts that limit with the render
    limit."""
    from generator.scan import scan

    module = tmp_path / "modules" / "rules"
    module.mkdir(parents=True)
    (module / "main.tf").write_text(
        'variable "rules" {}\n'
        'resource "openstack_networking_secgroup_rule_v2" "this" {\n'
        "  for_each          = var.rules\n"
        '  security_group_id = "sg"\n'
        "  description       = each.value.description\n"
        '  direction         = "ingress"\n'
        '  ethertype         = "IPv4"\n'
        '  protocol          = "tcp"\n'
        "  port_range_min    = each.value.port\n"
        "  port_range_max    = each.value.port\n"
        '  remote_ip_prefix  = "192.0.2.0/24"\n'
        "}\n", "utf-8")
    rules = "".join(f'    "group-{i:04d}/ingress-tcp-{2000 + i}-from-the-office" = {{ port = {2000 + i}, '
                    f'description = "rule {i} of a deployment with many flows" }}\n' for i in range(600))
    assert len(rules) > 50_000  # beyond asteval's default statement length
    (tmp_path / "main.tf").write_text(
        f'module "rules" {{\n  source = "./modules/rules"\n  rules = {{\n{rules}  }}\n}}\n', "utf-8")
    result = scan(tmp_path)
    judged = [f for f in result.findings if f.check_id == "CKV_GDPR_3"]
    assert len(judged) == 600 and {f.status for f in judged} == {"passed"}, judged[:3]
