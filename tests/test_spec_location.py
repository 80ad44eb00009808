"""`update` and `report` find the spec where the manifest says it is, relative to the
blueprint, and say where they looked when it is gone; an incomplete report is exit 1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from generator import api, cli
from generator.report import find_spec
from generator.write import MANIFEST
from tests.conftest import FIXTURES, ROOT, TODAY

ARGS = ["--today", TODAY.isoformat()]


@pytest.fixture
def apart(tmp_path: Path) -> Path:
    """A spec in `specs/` and its blueprint in `infra/clinic`: not next to each other."""
    (tmp_path / "specs").mkdir()
    spec = tmp_path / "specs" / "clinic.yaml"
    shutil.copyfile(FIXTURES / "specs" / "valid.yaml", spec)
    api.generate(spec, tmp_path / "infra" / "clinic", on=TODAY)
    return tmp_path


def test_the_manifest_records_the_spec_relative_to_the_blueprint(apart: Path) -> None:
    recorded = json.loads((apart / "infra" / "clinic" / MANIFEST).read_text())["spec"]
    assert recorded["file"] == "clinic.yaml" and recorded["path"] == "../../specs/clinic.yaml"
    found = (apart / "specs" / "clinic.yaml").resolve()
    assert find_spec(apart / "infra" / "clinic") == (found, ())  # what `report` uses
    moved = apart.parent / (apart.name + "-moved")
    shutil.move(apart, moved)  # the two move together: still found
    assert find_spec(moved / "infra" / "clinic")[0] == (moved / "specs" / "clinic.yaml").resolve()


def test_update_finds_a_spec_that_is_not_next_to_the_blueprint(
        apart: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = apart / "specs" / "clinic.yaml"
    assert cli.main(["update", str(apart / "infra" / "clinic"), "--check", *ARGS]) == 0
    spec.write_text(spec.read_text().replace("count: 2", "count: 3"))
    assert cli.main(["update", str(apart / "infra" / "clinic"), "--check", *ARGS]) == 1
    assert "updated: main.tf" in capsys.readouterr().out


def test_update_without_the_spec_says_where_it_looked(
        apart: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (apart / "specs" / "clinic.yaml").unlink()
    blueprint = apart / "infra" / "clinic"
    assert cli.main(["update", str(blueprint), "--check", *ARGS]) == 1
    err = capsys.readouterr().err
    assert f"cannot find the spec of {blueprint}: looked for {apart}/specs/clinic.yaml, " \
           f"{apart}/infra/clinic.yaml, {apart}/infra/clinic.yml; give it: update " in err


def test_a_report_without_its_spec_is_incomplete_and_exits_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blueprint = tmp_path / "minimal"
    shutil.copytree(ROOT / "blueprints" / "minimal", blueprint)
    code = cli.main(["report", str(blueprint), "-o", str(tmp_path / "out"), *ARGS])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "verdict: INCOMPLETE" in err
    assert f"looked for {tmp_path}/minimal.yaml, {tmp_path}/minimal.yml" in err
    assert "give the spec with --spec FILE" in err
    assert (tmp_path / "out" / "report.md").is_file()  # written all the same, saying why


def test_a_manifest_from_before_the_path_was_recorded_finds_the_spec_next_to_dir(
        tmp_path: Path) -> None:
    spec = tmp_path / "clinic.yaml"
    shutil.copyfile(FIXTURES / "specs" / "valid.yaml", spec)
    blueprint = tmp_path / "clinic"
    api.generate(spec, blueprint, on=TODAY)
    manifest = json.loads((blueprint / MANIFEST).read_text())
    del manifest["spec"]["path"]
    (blueprint / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    assert find_spec(blueprint) == (spec.resolve(), ())
    _, result = api.update(blueprint, on=TODAY, check_only=True)
    assert not result.drift
