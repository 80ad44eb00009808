"""The allowance record: what `apply` (or the CI gate) was allowed to delete or replace, by whom,
for which plan, and how the apply ended (Art. 5(2): the loss was decided, not suffered).

The record is a JSON-lines file, one entry per line, readable by its owner only (0600). Each
entry carries its place (`seq`) and the SHA-256 of the line before it (`prev`; the first entry
of a file has 64 zeros), so an entry edited, removed or inserted later breaks the chain at that
point and `verify` names it. An `allowed` entry is written before Terraform applies and names
the plan by the SHA-256 of its review document (what `show-plan` publishes: the plan as JSON
with every sensitive value redacted), and an `outcome` entry follows with how the apply ended:
an allowance without an outcome is an apply that never finished.

What the chain cannot show: a file rewritten whole, or cut short at the end. Keep the record
where the pipeline keeps it (an artifact, the log in which `apply` prints each entry and the
head of the chain) and compare. Who allowed is what the environment says ($GITHUB_ACTOR, ...)
or `--actor`: self-reported, and recorded as such.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RECORD_FILE = "allowed-replacements.jsonl"
"""Where `apply` appends what was allowed (in the blueprint directory unless --record says)."""
GENESIS = "0" * 64
# Who ran apply: the CI systems' own variables first, then the login.
ACTOR_VARIABLES = ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_REQUESTEDFOREMAIL", "USER", "LOGNAME")


@dataclass(frozen=True)
class Actor:
    """Who says they allowed it, and where the name came from (`--actor` or a variable)."""

    name: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "verified": False}

    def __str__(self) -> str:
        return f"{self.name} (self-reported, {self.source})"


def actor(given: str | None = None, environ: Mapping[str, str] | None = None) -> Actor | None:
    """`--actor NAME` when given, else the first CI or login variable that is set and not
    blank; None when nobody can be named (then an allowance is refused)."""
    if given is not None and given.strip():
        return Actor(given.strip(), "--actor")
    env = os.environ if environ is None else environ
    for name in ACTOR_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            return Actor(value, f"${name}")
    return None


def plan_digest(review_document: Mapping[str, Any]) -> str:
    """SHA-256 of a plan's review document (`show-plan`'s: the plan with every sensitive value
    redacted, generator/terraform/review.py) as canonical JSON: the same for the plan `apply`
    makes and for the document CI published for review."""
    canonical = json.dumps(review_document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _now(now: dt.datetime | None) -> str:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0).isoformat()


def allowed_entry(found: list[dict[str, Any]], directory: Path, who: Actor, plan_sha256: str, *,
                  now: dt.datetime | None = None) -> dict[str, Any]:
    """The allowance, as written before Terraform applies: what, why it was at risk, by whom,
    for which plan, when."""
    return {"kind": "allowed", "when": _now(now), "actor": who.as_dict(),
            "directory": str(directory), "plan_sha256": plan_sha256, "allowed": found}


def outcome_entry(allowance: int, code: int, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """How the apply of allowance `allowance` (its `seq`) ended: Terraform's exit code."""
    return {"kind": "outcome", "when": _now(now), "allowance": allowance,
            "result": "applied" if code == 0 else "failed", "exit_code": code}


def _line_hash(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


def append(path: Path, entry: Mapping[str, Any]) -> dict[str, Any]:
    """Append one entry to the record (created 0600; an existing one is made 0600), chained to
    the last line; returns the entry as written. A lock keeps two appenders from forking it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(fd, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        with os.fdopen(os.dup(fd), "rb") as handle:
            lines = [line for line in handle.read().split(b"\n") if line.strip()]
        written = {"seq": len(lines) + 1, "prev": _line_hash(lines[-1]) if lines else GENESIS,
                   **{k: v for k, v in entry.items() if k not in ("seq", "prev")}}
        os.write(fd, (json.dumps(written, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8"))
        os.fsync(fd)
        return written
    finally:
        os.close(fd)


def touch(path: Path) -> None:
    """Create the record if absent (0600), as the CI gate does so the artifact always exists."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    path.chmod(0o600)


@dataclass
class Check:
    """What `verify` found in a record: broken links (problems) and what is merely worth
    saying (notes: entries older than the chain, an allowance with no outcome)."""

    entries: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(data: bytes) -> Check:
    """Walk the chain of a record's bytes and name every entry that does not follow the one
    before it."""
    result = Check()
    lines = [line for line in data.split(b"\n") if line.strip()]
    result.entries = len(lines)
    unchained, chained = 0, False
    pending: dict[int, str] = {}
    for number, line in enumerate(lines, 1):
        expected = _line_hash(lines[number - 2]) if number > 1 else GENESIS
        try:
            entry = json.loads(line)
        except ValueError:
            result.problems.append(f"line {number}: not a JSON entry")
            continue
        if not isinstance(entry, dict):
            result.problems.append(f"line {number}: not a JSON object")
            continue
        if "prev" not in entry:
            if chained:
                result.problems.append(f"line {number}: an entry without its chain after chained ones")
            else:
                unchained += 1
            continue
        chained = True
        if entry.get("seq") != number:
            result.problems.append(f"line {number}: says it is entry {entry.get('seq')}: an entry "
                                   "before it was removed or inserted")
        if entry["prev"] != expected:
            result.problems.append(f"line {number}: does not follow line {number - 1} (the line "
                                   "before it was changed, removed or inserted)"
                                   if number > 1 else "line 1: does not start a chain")
        if entry.get("kind") == "allowed":
            pending[number] = str(entry.get("when", ""))
        elif entry.get("kind") == "outcome":
            pending.pop(entry.get("allowance"), None)  # type: ignore[arg-type]
    if unchained:
        result.notes.append(f"lines 1-{unchained} predate the chain (written by an earlier "
                            "version): they are covered by the hash of the next entry only")
    for number, when in sorted(pending.items()):
        result.notes.append(f"line {number}: the allowance of {when} has no outcome (the apply "
                            "did not finish, or its outcome was not recorded)")
    if lines:
        result.head = _line_hash(lines[-1])
    return result


def pending_allowance(path: Path) -> int | None:
    """The `seq` of the last allowance that has no outcome yet (None if there is none)."""
    if not Path(path).is_file():
        return None
    waiting: list[int] = []
    for line in Path(path).read_bytes().split(b"\n"):
        try:
            entry = json.loads(line) if line.strip() else None
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("kind") == "allowed":
            waiting.append(int(entry.get("seq", 0)))
        elif isinstance(entry, dict) and entry.get("kind") == "outcome":
            waiting = [s for s in waiting if s != entry.get("allowance")]
    return waiting[-1] if waiting else None
