"""The compiled-template cache: it is used, and no state of it can change what is generated."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

SPEC = ROOT / "blueprints" / "patient-portal.yaml"
COMMITTED = ROOT / "blueprints" / "patient-portal"


def generate(tmp_path: Path, cache: Path, name: str, **env: str | None) -> Path:
    """The example generated as the repository holds it: the spec beside the blueprint, so the
    manifest records the same spec path (`../patient-portal.yaml`)."""
    spec = tmp_path / SPEC.name
    if not spec.exists():
        shutil.copyfile(SPEC, spec)
    out = tmp_path / name
    # The cache under test is XDG's: a SAFESPRING_BLUEPRINTS_CACHE of the caller's would win.
    result = run_cli("generate", str(spec), "-o", str(out),
                     env={"XDG_CACHE_HOME": str(cache), "SAFESPRING_BLUEPRINTS_CACHE": None, **env})
    assert result.code == 0, result.err
    return out


def same_as_committed(out: Path) -> None:
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(COMMITTED) for p in COMMITTED.rglob("*") if p.is_file())
    for rel in files:
        assert (out / rel).read_bytes() == (COMMITTED / rel).read_bytes(), rel


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "safespring-blueprints" / "templates").glob("*.cache"))


def test_first_run_fills_the_cache_and_later_runs_use_it(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    same_as_committed(generate(tmp_path, cache, "first"))
    filled = entries(cache)
    assert len(filled) >= 10  # one per template rendered
    directory = cache / "safespring-blueprints" / "templates"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    before = {p: p.stat().st_mtime_ns for p in filled}
    same_as_committed(generate(tmp_path, cache, "second"))
    assert {p: p.stat().st_mtime_ns for p in entries(cache)} == before  # read, not rewritten


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_cache_is_recompiled_not_trusted(tmp_path: Path, damage: str) -> None:
    cache = tmp_path / "cache"
    generate(tmp_path, cache, "warm")
    for entry in entries(cache):
        data = entry.read_bytes()
        entry.write_bytes({"garbage": b"j2 not bytecode at all", "truncated": data[: len(data) // 2],
                           "empty": b""}[damage])
    same_as_committed(generate(tmp_path, cache, "after"))


def test_an_entry_from_other_template_source_is_not_used(tmp_path: Path) -> None:
    """Jinja checks each entry against the template's source: an entry for another template
    (as after an upgrade) is ignored, so it cannot leak into the output."""
    cache = tmp_path / "cache"
    generate(tmp_path, cache, "warm")
    filled = entries(cache)
    swapped = [p.read_bytes() for p in filled[1:] + filled[:1]]
    for entry, data in zip(filled, swapped, strict=True):
        entry.write_bytes(data)
    same_as_committed(generate(tmp_path, cache, "after"))


def test_an_unwritable_cache_or_no_cache_still_generates(tmp_path: Path) -> None:
    blocked = tmp_path / "cache-blocked"
    blocked.write_text("a file where the cache directory would go\n")
    same_as_committed(generate(tmp_path, blocked, "out-blocked"))
    off = tmp_path / "cache-off"
    same_as_committed(generate(tmp_path, off, "out-off", SAFESPRING_BLUEPRINTS_NO_CACHE="1"))
    assert not off.exists()
