"""The allowance record is a chain: every entry names the one before it, so an edited, removed or
inserted entry is found; it is created (and kept) readable by its owner only; concurrent
appenders cannot fork it; and who allowed is whoever can be named, never a blank."""

from __future__ import annotations

import json
import multiprocessing
import stat
from pathlib import Path

from generator import record

WHO = record.Actor("anna", "$GITHUB_ACTOR")


def _allowance(path: Path, address: str) -> dict:
    return record.append(path, record.allowed_entry(
        [{"address": address, "action": "delete"}], path.parent, WHO, "ab" * 32))


def test_entries_chain_and_verify(tmp_path: Path) -> None:
    kept = tmp_path / record.RECORD_FILE
    first = _allowance(kept, "openstack_blockstorage_volume_v3.data")
    outcome = record.append(kept, record.outcome_entry(first["seq"], 0))
    second = _allowance(kept, "aws_s3_bucket.files")
    assert (first["seq"], outcome["seq"], second["seq"]) == (1, 2, 3)
    assert first["prev"] == record.GENESIS
    checked = record.verify(kept.read_bytes())
    assert checked.ok and checked.entries == 3
    assert checked.notes == [f"line 3: the allowance of {second['when']} has no outcome (the apply "
                             "did not finish, or its outcome was not recorded)"]
    assert record.pending_allowance(kept) == 3
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_an_edited_removed_or_inserted_entry_breaks_the_chain(tmp_path: Path) -> None:
    kept = tmp_path / record.RECORD_FILE
    for n in range(4):
        _allowance(kept, f"openstack_blockstorage_volume_v3.v{n}")
    lines = kept.read_bytes().splitlines(keepends=True)

    edited = list(lines)
    entry = json.loads(edited[1])
    entry["actor"]["name"] = "the-dpo"
    edited[1] = (json.dumps(entry, sort_keys=True) + "\n").encode()
    assert record.verify(b"".join(edited)).problems == [
        "line 3: does not follow line 2 (the line before it was changed, removed or inserted)"]

    removed = lines[:1] + lines[2:]
    assert record.verify(b"".join(removed)).problems == [
        "line 2: says it is entry 3: an entry before it was removed or inserted",
        "line 2: does not follow line 1 (the line before it was changed, removed or inserted)",
        "line 3: says it is entry 4: an entry before it was removed or inserted"]

    inserted = [*lines[:2], b'{"kind": "allowed", "allowed": []}\n', *lines[2:]]
    assert "line 3: an entry without its chain after chained ones" in record.verify(
        b"".join(inserted)).problems
    assert not record.verify(b"".join(lines[:2]) + b"not json\n").ok


def test_entries_of_an_earlier_version_start_the_chain(tmp_path: Path) -> None:
    """A record from before the chain keeps its lines; the first chained entry covers them."""
    kept = tmp_path / record.RECORD_FILE
    kept.write_text('{"who": "anna ($USER)", "allowed": []}\n')
    kept.chmod(0o644)
    entry = _allowance(kept, "aws_s3_bucket.files")
    assert entry["seq"] == 2 and entry["prev"] != record.GENESIS
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    checked = record.verify(kept.read_bytes())
    assert checked.ok and checked.notes[0].startswith("lines 1-1 predate the chain")
    kept.write_text('{"who": "mallory ($USER)", "allowed": []}\n' + kept.read_text().split("\n", 1)[1])
    assert not record.verify(kept.read_bytes()).ok


def _append_many(path: str, start: int) -> None:
    for n in range(start, start + 25):
        _allowance(Path(path), f"openstack_blockstorage_volume_v3.v{n}")


def test_concurrent_appends_keep_one_chain(tmp_path: Path) -> None:
    kept = tmp_path / record.RECORD_FILE
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_append_many, args=(str(kept), k * 100)) for k in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)  # a hang guard: each appends 25 lines in well under a second
        assert w.exitcode == 0
    checked = record.verify(kept.read_bytes())
    assert checked.ok and checked.entries == 100


def test_the_actor_is_named_or_nobody() -> None:
    assert record.actor(None, {"GITHUB_ACTOR": "anna", "USER": "root"}) == record.Actor(
        "anna", "$GITHUB_ACTOR")
    assert record.actor(None, {"GITHUB_ACTOR": "  ", "USER": "ops"}) == record.Actor("ops", "$USER")
    assert record.actor(" dpo@example.se ", {"GITHUB_ACTOR": "anna"}) == record.Actor(
        "dpo@example.se", "--actor")
    assert record.actor(None, {}) is None and record.actor("", {"USER": ""}) is None
    assert str(record.Actor("anna", "$GITHUB_ACTOR")) == "anna (self-reported, $GITHUB_ACTOR)"
