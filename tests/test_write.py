"""Writing never loses anything: user files survive, edits are not overwritten silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import api
from generator.write import OutputError
from tests.conftest import FIXTURES, TODAY

SPEC = FIXTURES / "specs" / "valid.yaml"


def test_user_files_next_to_the_blueprint_survive_regeneration(tmp_path: Path) -> None:
    out = tmp_path / "bp"
    api.generate(SPEC, out, on=TODAY)
    (out / "terraform.tfstate").write_text("{}")
    (out / ".terraform").mkdir()
    (out / "extra.tf").write_text("# mine\n")
    api.generate(SPEC, out, on=TODAY)
    assert (out / "terraform.tfstate").read_text() == "{}"
    assert (out / "extra.tf").read_text() == "# mine\n"


def test_edited_generated_file_is_not_overwritten_without_force(tmp_path: Path) -> None:
    out = tmp_path / "bp"
    api.generate(SPEC, out, on=TODAY)
    (out / "main.tf").write_text((out / "main.tf").read_text() + "# my edit\n")
    with pytest.raises(OutputError, match=r"main\.tf") as refused:
        api.generate(SPEC, out, on=TODAY)
    assert f"`safespring-blueprints update {out}` regenerates and keeps them" in str(refused.value)
    assert (out / "main.tf").read_text().endswith("# my edit\n")
    api.generate(SPEC, out, on=TODAY, force=True)
    assert not (out / "main.tf").read_text().endswith("# my edit\n")


def test_foreign_directory_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "bp"
    out.mkdir()
    (out / "notes.txt").write_text("hi")
    with pytest.raises(OutputError, match="not a blueprint"):
        api.generate(SPEC, out, on=TODAY)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_files_no_longer_generated_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "bp"
    api.generate(SPEC, out, on=TODAY)
    assert (out / "cloud-init" / "db.yaml").is_file()
    smaller = tmp_path / "smaller.yaml"
    text = SPEC.read_text()
    start = text.index("  - name: db")
    smaller.write_text(text[:start] + text[text.index("endpoints:"):]
                       .replace("endpoints:", "endpoints:", 1))
    done = api.generate(smaller, out, on=TODAY)
    assert "cloud-init/db.yaml" in done.result.removed
    assert not (out / "cloud-init" / "db.yaml").exists()
