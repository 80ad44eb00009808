"""The one way the generator asks git something: a subprocess that never raises.

Blueprints are meant to live in the user's git repository; git is optional, so every answer
may be None (no git, not a repository, a failing command).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

_TIMEOUT = 30


def git(args: list[str], cwd: Path, stdin: bytes | None = None) -> bytes | None:
    """`git ARGS` in `cwd`: its stdout, or None when git is missing, hangs or fails."""
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True,
                              timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):  # no git, or it hung: never a crash
        return None
    return proc.stdout if proc.returncode == 0 else None


def repository_prefix(directory: Path) -> str | None:
    """`directory` relative to the root of its git repository, with a trailing `/` (`""` at
    the root), or None outside a repository: what code scanning needs before a file path."""
    out = git(["rev-parse", "--show-prefix"], directory)
    return None if out is None else out.decode("utf-8", "surrogateescape").strip()
