"""Problems found in a spec, reported as `FILE:LINE:COL: key.path: message (article)`."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

Path = tuple[str | int, ...]
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def one_line(text: str) -> str:
    """Escape line breaks and invisible control/format characters, so one problem is one line
    and a value in it cannot forge another problem line or move the terminal cursor."""
    out = []
    for ch in text:
        if ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def format_path(path: Path) -> str:
    """`("instances", 0, "volumes", 1, "encryption")` -> `instances[0].volumes[1].encryption`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.match(part):
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
        else:
            out += f".{part}" if out else part
    return one_line(out) or "(document)"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a spec, located in its file."""

    line: int
    column: int
    path: Path
    message: str
    article: str | None = None

    def format(self, file: str) -> str:
        """The line a user sees; the GDPR provision closes it when a rule protects one."""
        text = f"{file}:{self.line}:{self.column}: {format_path(self.path)}: {one_line(self.message)}"
        return f"{text} ({self.article})" if self.article else text


class SpecError(Exception):
    """The spec was rejected; carries every problem found, not just the first."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = sorted(set(problems), key=lambda p: (p.line, p.column, p.message))
        super().__init__("\n".join(p.format(file) for p in self.problems))
