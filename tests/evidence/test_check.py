"""The base of the checks: metadata as data, Checkov's render limit, verdicts."""

from __future__ import annotations

import importlib
import os
import sys

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
