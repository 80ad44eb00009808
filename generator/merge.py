"""Three-way merge of an edited generated file, with the base found in the user's git history.

The manifest records only the hash of each file as it was generated. Blueprints are meant to be
reviewed and committed, so the generated version the user started from is normally in their
git history: we look for the blob whose SHA-256 is the recorded one (the index first, then the
last commits that touched the file) and let `git merge-file` combine the user's edit with the
new template. Without git, without the base in history, or with a conflict, nothing is merged
and the caller falls back to writing the new version beside the file.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

from generator.git import git as _git
from generator.git import repository_prefix

HISTORY_DEPTH = 200  # commits searched for the base, newest first


def find_base(file: Path, digest: str) -> bytes | None:
    """The committed (or staged) content of `file` whose SHA-256 is `digest`, if git has it."""
    directory = file.parent
    prefix = repository_prefix(directory)
    if prefix is None:
        return None
    in_repo = prefix + file.name
    revisions = [f":{in_repo}"]
    listed = _git(["rev-list", f"--max-count={HISTORY_DEPTH}", "HEAD", "--", file.name], directory)
    revisions += [f"{commit}:{in_repo}" for commit in (listed or b"").decode().split()]
    batch = _git(["cat-file", "--batch"], directory, "".join(f"{r}\n" for r in revisions).encode())
    return _first_matching(batch or b"", digest)


def _first_matching(batch: bytes, digest: str) -> bytes | None:
    """Walk `git cat-file --batch` output: `<oid> <type> <size>\\n<content>\\n` or `... missing`."""
    at = 0
    while at < len(batch):
        end = batch.find(b"\n", at)
        if end < 0:
            return None
        header = batch[at:end].split()
        at = end + 1
        if len(header) != 3 or header[1] != b"blob":
            continue  # "<name> missing" or not a blob
        size = int(header[2])
        content = batch[at:at + size]
        at += size + 1
        if hashlib.sha256(content).hexdigest() == digest:
            return content
    return None


def merge(current: bytes, base: bytes, new: bytes) -> bytes | None:
    """`git merge-file` of the user's `current` and the `new` template output over `base`:
    the merged bytes, or None when the two changes conflict (its exit code counts conflicts)."""
    with tempfile.TemporaryDirectory(prefix="ssb-merge-") as scratch:
        paths = []
        for name, data in (("current", current), ("base", base), ("new", new)):
            path = Path(scratch) / name
            path.write_bytes(data)
            paths.append(str(path))
        return _git(["merge-file", "-p", *paths], Path(scratch))
