"""`update` regenerates with a newer template and never silently overwrites an edit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from generator import api, blueprint, cli
from generator.spec.model import Spec
from generator.update import SUFFIX
from generator.write import MANIFEST, OutputError
from tests.conftest import FIXTURES, TODAY, run_cli

SPEC = FIXTURES / "specs" / "valid.yaml"


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    spec = tmp_path / "clinic.yaml"
    spec.write_bytes(SPEC.read_bytes())
    api.generate(spec, tmp_path / "clinic", on=TODAY)
    return tmp_path / "clinic"


@pytest.fixture
def newer_template(monkeypatch: pytest.MonkeyPatch) -> None:
    """A template change in a later generator version: main.tf and README.md gain a line."""
    original = blueprint.render

    def render(spec: Spec) -> dict[str, bytes]:
        files = original(spec)
        files["main.tf"] += b"\n# template v2\n"
        files["README.md"] += b"\nNew in v2.\n"
        return files

    monkeypatch.setattr(blueprint, "render", render)


def test_up_to_date_blueprint_reports_no_drift(generated: Path) -> None:
    _, result = api.update(generated, on=TODAY, check_only=True)
    assert not result.drift and not result.lines()


def test_an_edit_survives_a_template_change_and_is_reported(generated: Path,
                                                             newer_template: None) -> None:
    main = generated / "main.tf"
    edited = main.read_text() + "# my own change\n"
    main.write_text(edited)
    _, check = api.update(generated, on=TODAY, check_only=True)
    assert check.drift and check.conflicts == ["main.tf"]
    assert main.read_text() == edited  # --check wrote nothing
    _, result = api.update(generated, on=TODAY)
    assert main.read_text() == edited
    assert (generated / ("main.tf" + SUFFIX)).read_text().endswith("# template v2\n")
    assert result.conflicts == ["main.tf"]
    assert "README.md" in result.updated
    assert (generated / "README.md").read_text().endswith("New in v2.\n")


def test_an_edit_is_kept_when_the_template_did_not_change(generated: Path) -> None:
    (generated / "variables.tf").write_text("# mine\n")
    _, result = api.update(generated, on=TODAY)
    assert result.kept_edits == ["variables.tf"]
    assert (generated / "variables.tf").read_text() == "# mine\n"
    assert not (generated / ("variables.tf" + SUFFIX)).exists()


def test_files_no_longer_generated_go_unless_edited(generated: Path, tmp_path: Path) -> None:
    text = SPEC.read_text()
    start = text.index("  - name: db")
    smaller = tmp_path / "smaller.yaml"
    smaller.write_text(text[:start] + text[text.index("endpoints:"):])
    _, result = api.update(generated, smaller, on=TODAY, check_only=True)
    assert "cloud-init/db.yaml" in result.removed
    (generated / "cloud-init" / "db.yaml").write_text("#cloud-config\n# edited\n")
    _, result = api.update(generated, smaller, on=TODAY)
    assert result.kept_removed == ["cloud-init/db.yaml"]
    assert (generated / "cloud-init" / "db.yaml").read_text() == "#cloud-config\n# edited\n"
    assert "main.tf" in result.updated


def test_update_refuses_a_directory_without_manifest(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    with pytest.raises(OutputError, match="no readable"):
        api.update(tmp_path / "x", SPEC, on=TODAY)


def test_update_cli_check_exit_codes(generated: Path) -> None:
    assert run_cli("update", str(generated), "--check").code == 0
    spec = generated.parent / "clinic.yaml"  # the manifest records the spec next to DIR
    spec.write_text(spec.read_text().replace("count: 2", "count: 3"))
    before = (generated / MANIFEST).read_bytes()
    drift = run_cli("update", str(generated), "--check")
    assert drift.code == 1 and "updated: main.tf" in drift.out
    assert (generated / MANIFEST).read_bytes() == before
    applied = run_cli("update", str(generated))
    assert applied.code == 0 and run_cli("update", str(generated), "--check").code == 0


# ---------------------------------------------------------------- 3-way merge from git history

def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid",
                           "-c", "commit.gpgsign=false", *args],
                          cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout


@pytest.fixture
def committed(generated: Path) -> Path:
    """The blueprint reviewed and committed, as the workflow asks."""
    git(generated.parent, "init", "-q")
    git(generated.parent, "add", "-A")
    git(generated.parent, "commit", "-q", "-m", "blueprint")
    return generated


def test_an_edit_merges_with_a_template_change_when_git_has_the_base(
        committed: Path, newer_template: None) -> None:
    main = committed / "main.tf"
    edited = "# reviewed by the platform team\n" + main.read_text()
    main.write_text(edited)
    git(committed.parent, "commit", "-q", "-am", "my edit")  # the base is now one commit back
    _, check = api.update(committed, on=TODAY, check_only=True)
    assert check.merged == ["main.tf"] and check.drift
    assert main.read_text() == edited  # --check wrote nothing
    _, result = api.update(committed, on=TODAY)
    assert result.merged == ["main.tf"] and not result.conflicts
    assert main.read_text() == edited + "\n# template v2\n"  # both changes
    assert not (committed / ("main.tf" + SUFFIX)).exists()
    _, again = api.update(committed, on=TODAY)  # still the user's file: kept from now on
    assert again.kept_edits == ["main.tf"] and not again.drift


def test_an_uncommitted_edit_merges_against_the_committed_generation(
        committed: Path, newer_template: None, capsys: pytest.CaptureFixture[str]) -> None:
    main = committed / "main.tf"
    edited = "# not committed yet\n" + main.read_text()
    main.write_text(edited)
    assert cli.main(["update", str(committed), "--today", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "merged your edit with the new template (3-way, base from git): main.tf" in out
    assert main.read_text() == edited + "\n# template v2\n"


def test_conflicting_changes_are_not_merged(committed: Path, newer_template: None) -> None:
    """Both append at the end of main.tf: a conflict, so the file stays as the user left it."""
    main = committed / "main.tf"
    edited = main.read_text() + "# my own change\n"
    main.write_text(edited)
    _, result = api.update(committed, on=TODAY)
    assert result.conflicts == ["main.tf"] and not result.merged
    assert main.read_text() == edited
    assert (committed / ("main.tf" + SUFFIX)).read_text().endswith("# template v2\n")


def test_without_the_base_in_history_nothing_is_merged(generated: Path,
                                                       newer_template: None) -> None:
    git(generated.parent, "init", "-q")  # a repository, but the blueprint was never committed
    main = generated / "main.tf"
    edited = "# mine\n" + main.read_text()
    main.write_text(edited)
    _, result = api.update(generated, on=TODAY)
    assert result.conflicts == ["main.tf"] and main.read_text() == edited


def test_a_generated_file_waiting_beside_an_edit_is_drift(
        generated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 11's scenario: outside git, edit main.tf, change the spec, update (which writes
    main.tf.generated): --check must keep reporting drift until the user has merged it."""
    spec = generated.parent / "clinic.yaml"
    main = generated / "main.tf"
    edited = main.read_text() + "# my own change\n"
    main.write_text(edited)
    spec.write_text(spec.read_text().replace("count: 2", "count: 3"))
    today = ["--today", TODAY.isoformat()]
    assert cli.main(["update", str(generated), *today]) == 0
    waiting = generated / ("main.tf" + SUFFIX)
    assert "count = 3" in waiting.read_text() and "count = 3" not in main.read_text()
    capsys.readouterr()
    assert cli.main(["update", str(generated), "--check", *today]) == 1
    out, err = capsys.readouterr()
    assert "not merged yet" in out and "main.tf" in out and "drift" in err
    assert cli.main(["update", str(generated), *today]) == 0  # a second update changes nothing
    assert main.read_text() == edited and waiting.is_file()
    main.write_text(waiting.read_text() + "# my own change\n")  # the user merges ...
    waiting.unlink()  # ... and removes the new version: up to date, the edit kept
    capsys.readouterr()
    assert cli.main(["update", str(generated), "--check", *today]) == 0
    assert "up to date" in capsys.readouterr().err
