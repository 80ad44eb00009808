"""The one encoder: literal values stay literal, and raw values cannot reach a template."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jinja2
import pytest

from generator.render import hcl
from generator.render.engine import RawValueError, hcl_environment

HOSTILE = [
    'x"${file("/etc/passwd")}%{ for }\n}',
    "$${already escaped} and %%{ too }",
    "back\\slash \"quotes\" tab\there\r\nnewline",
    "non-ASCII: åäö Ωμέγα 日本 \u2028 emoji 🦀",
    "control \x01\x1f\x7f end",
    "${",
    "%{",
    "$",
    "trailing $",
    "}",
]


def test_strings_are_escaped() -> None:
    assert hcl.quote('a"b') == '"a\\"b"'
    assert hcl.quote("${x}") == '"$${x}"'
    assert hcl.quote("%{x}") == '"%%{x}"'
    assert hcl.quote("a\nb") == '"a\\nb"'
    assert hcl.quote("å") == '"å"'


def test_values() -> None:
    assert hcl.encode(None) == "null"
    assert hcl.encode(True) == "true"
    assert hcl.encode(3) == "3"
    assert hcl.encode(["a", 1]) == '["a", 1]'
    assert hcl.encode({"a": 1, "b-c": 2, "1x": 3}) == '{\n  a = 1\n  b-c = 2\n  "1x" = 3\n}'
    with pytest.raises(ValueError):
        hcl.encode(float("nan"))
    with pytest.raises(TypeError):
        hcl.encode(object())


def test_hcl_text_cannot_be_made_outside_the_encoder() -> None:
    with pytest.raises(TypeError):
        hcl.HCL('"${file("/etc/passwd")}"')


def test_identifiers_and_references_are_checked() -> None:
    assert hcl.ref("module", "sg_web", "id") == "module.sg_web.id"
    with pytest.raises(ValueError):
        hcl.ref("module", "web } evil", "id")
    with pytest.raises(ValueError):
        hcl.ident("a.b")


def test_templates_refuse_raw_values() -> None:
    env = hcl_environment()
    template = env.from_string("x = {{ value }}")
    with pytest.raises(RawValueError):
        template.render(value='"${file("/etc/passwd")}"')
    assert template.render(value=hcl.encode("ok")) == 'x = "ok"'


def test_raw_text_from_filters_is_refused_too() -> None:
    env = hcl_environment()
    with pytest.raises(RawValueError):
        env.from_string("x = {{ value | hcl | upper }}").render(value="a")
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("x = {{ missing | hcl }}").render()


def test_canonical_layout_matches_terraform_fmt(tmp_path: Path, terraform_env: dict) -> None:
    text = hcl.canonical(
        'locals {\nshort = 1\n    much_longer_name = {\n  a = 1\n  bbb = "x"\n}\n'
        '  z = [1, 2]\n\n\n\nw = "$${"\n}\n')
    (tmp_path / "main.tf").write_text(text)
    proc = subprocess.run(["terraform", "fmt", "-check", "-diff", str(tmp_path)],
                          env=terraform_env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_hostile_strings_round_trip_through_real_terraform(tmp_path: Path,
                                                           terraform_env: dict) -> None:
    """Terraform itself evaluates what we wrote: each value comes back byte for byte."""
    body = "".join(f"output \"v{i}\" {{\n  value = {hcl.encode(s)}\n}}\n"
                   for i, s in enumerate(HOSTILE))
    (tmp_path / "main.tf").write_text(hcl.canonical(body), encoding="utf-8")
    for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        proc = subprocess.run(["terraform", f"-chdir={tmp_path}", *args], env=terraform_env,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(["terraform", f"-chdir={tmp_path}", "output", "-json"],
                          env=terraform_env, capture_output=True, text=True, check=True)
    values = {k: v["value"] for k, v in json.loads(proc.stdout).items()}
    assert values == {f"v{i}": s for i, s in enumerate(HOSTILE)}
