"""One Terraform minimum everywhere, and a missing prerequisite is a clear error, not a crash."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from generator import blueprint, cli
from generator.spec import check_file
from generator.terraform import TERRAFORM_MIN, TERRAFORM_MISSING
from generator.terraform.offline import MIRROR_ENV
from tests.conftest import FIXTURES, ROOT, TODAY

REQUIRED = re.compile(r'required_version\s*=\s*"([^"]*)"')
STATED = re.compile(r"Terraform\s*(?:>=\s*|)([0-9]+\.[0-9]+)(?:\.[0-9]+)?\s*(?:or newer|must|;|\))")


def test_every_module_and_committed_blueprint_states_the_one_minimum() -> None:
    files = [*(ROOT / "modules").rglob("*.tf"), *(ROOT / "blueprints").rglob("*.tf")]
    found = {str(f.relative_to(ROOT)): REQUIRED.findall(f.read_text()) for f in files}
    stated = {path: v for path, v in found.items() if v}
    assert len(stated) >= 20
    assert {path: v for path, v in stated.items() if v != [f">= {TERRAFORM_MIN}"]} == {}


@pytest.mark.parametrize("backend", ["s3", "local"])
def test_generated_versions_tf_states_the_minimum_for_either_backend(tmp_path: Path,
                                                                    backend: str) -> None:
    spec = tmp_path / "clinic.yaml"
    text = (FIXTURES / "specs" / "valid.yaml").read_text()
    if backend == "local":
        text = text.replace("  backend: s3\n  bucket: tfstate-clinic\n", "  backend: local\n")
    spec.write_text(text)
    files = blueprint.render(check_file(spec, TODAY).spec)
    stated = [v for name, data in files.items() if name.endswith(".tf")
              for v in REQUIRED.findall(data.decode())]
    assert stated and set(stated) == {f">= {TERRAFORM_MIN}"}


def test_readme_and_messages_name_the_same_minimum() -> None:
    readme = (ROOT / "README.md").read_text()
    mentioned = set(STATED.findall(readme))
    assert mentioned == {TERRAFORM_MIN}
    assert f"Terraform {TERRAFORM_MIN} or newer" in TERRAFORM_MISSING
    assert (ROOT / "generator" / "render" / "templates" / "versions.tf.j2").read_text().count(
        "terraform_min") == 1


def _no_terraform_path(tmp_path: Path) -> str:
    """A PATH with everything but terraform (the interpreter stays reachable)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("git",):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


@pytest.mark.parametrize("argv", [["validate", "--offline"], ["validate"], ["plan", "--offline"]])
def test_missing_terraform_exits_3_with_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        argv: list[str]) -> None:
    monkeypatch.setenv("PATH", _no_terraform_path(tmp_path))
    monkeypatch.delenv("SAFESPRING_BLUEPRINTS_DEBUG", raising=False)
    code = cli.main([argv[0], str(ROOT / "blueprints" / "minimal"), *argv[1:]])
    err = capsys.readouterr().err
    assert code == 3, err
    assert TERRAFORM_MISSING in err and "internal error" not in err


def test_a_bad_mirror_setting_exits_3_naming_the_variable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path / "not-a-mirror"))
    monkeypatch.delenv("SAFESPRING_BLUEPRINTS_DEBUG", raising=False)
    code = cli.main(["validate", str(ROOT / "blueprints" / "minimal"), "--offline"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert MIRROR_ENV in err and "registry.terraform.io" in err and "internal error" not in err
