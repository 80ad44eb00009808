"""The one HCL encoder: the only code that turns a value into HCL text.

Every value that reaches a `.tf` file passes through `encode` (literals) or one of the small
constructors below (identifiers, references, module-relative paths). They return `HCL`, a
`str` subclass that only this module can create; the template engine refuses to print
anything else, so unescaped insertion is impossible by construction.

`canonical` then lays the rendered text out exactly as `terraform fmt` would (indentation by
nesting, `=` aligned in runs of single-line attributes), so output is fmt-clean without
running Terraform.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

_TOKEN = object()
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class HCL(str):
    """Text that is already valid HCL. Created only by this module's functions."""

    __slots__ = ()

    def __new__(cls, text: str, token: object = None) -> HCL:
        if token is not _TOKEN:
            raise TypeError("HCL text is made only by generator.render.hcl (use encode())")
        return super().__new__(cls, text)


def _make(text: str) -> HCL:
    return HCL(text, _TOKEN)


def quote(text: str) -> HCL:
    """A quoted HCL string whose value is exactly `text` (no interpolation, no directives)."""
    return _make(f'"{_escape(text)}"')


_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')


def _escaped_char(match: re.Match[str]) -> str:
    ch = match.group()
    return _ESCAPES.get(ch) or f"\\u{ord(ch):04x}"


def _escape(text: str) -> str:
    """Backslash, quote and control characters escaped, in one regex pass: it runs for every
    string of every group (136,000 times at 1,000 groups), 2-12x faster than a Python loop."""
    escaped = _NEEDS_ESCAPE.sub(_escaped_char, text)
    # Template sequences: `${` and `%{` start interpolations and directives; doubling the
    # introducer makes them literal.
    return escaped.replace("${", "$${").replace("%{", "%%{")


def encode(value: Any, indent: int = 0) -> HCL:
    """Encode a Python value as an HCL literal (maps over several lines, lists on one)."""
    if isinstance(value, HCL):
        return value
    if value is None:
        return _make("null")
    if isinstance(value, bool):
        return _make("true" if value else "false")
    if isinstance(value, int):
        return _make(str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"HCL has no literal for {value!r}")
        return _make(repr(value))
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, Mapping):
        if not value:
            return _make("{}")
        pad = "  " * (indent + 1)
        lines = [f"{pad}{key_of(k)} = {encode(v, indent + 1)}" for k, v in value.items()]
        return _make("{\n" + "\n".join(lines) + "\n" + "  " * indent + "}")
    if isinstance(value, Sequence):
        return _make("[" + ", ".join(encode(v, indent) for v in value) + "]")
    raise TypeError(f"cannot encode {type(value).__name__} as HCL")


def key_of(key: str) -> HCL:
    """An object key: bare when it is an identifier, quoted otherwise."""
    if not isinstance(key, str):
        raise TypeError("HCL object keys are strings")
    return _make(key) if _IDENT.match(key) else quote(key)


def ident(name: str) -> HCL:
    """An identifier (block label-free names such as module and local names)."""
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ValueError(f"{name!r} is not an HCL identifier")
    return _make(name)


def ref(*parts: str | int) -> HCL:
    """A traversal such as `module.web.ids` or `local.x[0]`, built from checked parts."""
    text = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + ident(part)
    return _make(text)


def index(base: HCL, key: str) -> HCL:
    """`base["key"]`: a map lookup with an encoded key."""
    if not isinstance(base, HCL):
        raise TypeError("index() needs an HCL base")
    return _make(f"{base}[{quote(key)}]")


def call(function: str, *arguments: Any) -> HCL:
    """`function(a, b)`: a function call whose arguments are HCL already or encoded here."""
    args = ", ".join(a if isinstance(a, HCL) else encode(a) for a in arguments)
    return _make(f"{ident(function)}({args})")


def comment(text: str) -> HCL:
    """Text for a `#` comment: one line, so a value can never end the comment early."""
    return _make(" ".join(str(text).split()))


def module_file(relative: str, function: str = "file", wrap: str | None = None) -> HCL:
    """`file("${path.module}/relative")` with the relative part escaped, optionally wrapped
    in one more function call (e.g. `base64gzip(file(...))`)."""
    call = f'{ident(function)}("${{path.module}}/{_escape(relative)}")'
    return _make(f"{ident(wrap)}({call})" if wrap else call)


# ---------------------------------------------------------------- layout like `terraform fmt`

_OPEN = "([{"
_CLOSE = ")]}"
_ASSIGN = re.compile(r'^([A-Za-z_][A-Za-z0-9_-]*|"(?:[^"\\]|\\.)*")\s*=(?![=>])\s*(.*)$')


@cache
def _bracket_change(line: str) -> tuple[int, int]:
    """(net change, leading closers) of a line, ignoring brackets inside strings and comments."""
    net = 0
    leading = 0
    in_string = False
    seen_code = False
    i = 0
    while i < len(line):
        ch = line[i]
        if in_string:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            seen_code = True
        elif ch == "#" or line.startswith("//", i):
            break
        elif ch in _OPEN:
            net += 1
            seen_code = True
        elif ch in _CLOSE:
            net -= 1
            if not seen_code:
                leading += 1
        elif not ch.isspace():
            seen_code = True
        i += 1
    return net, leading


def canonical(text: str) -> str:
    """Indent by nesting, drop stray blank lines and align `=` as `terraform fmt` does."""
    out: list[str] = []
    depth = 0
    for raw in text.split("\n"):
        line = raw.strip()
        net, leading = _bracket_change(line)
        if not line:
            if out and out[-1] != "" and not out[-1].endswith(("{", "[", "(")):
                out.append("")
            continue
        if line[0] in _CLOSE and out and out[-1] == "":
            out.pop()
        level = depth - leading
        match = _ASSIGN.match(line)
        if match:
            line = f"{match.group(1)} = {match.group(2)}"
        out.append("  " * level + line)
        depth += net
    while out and out[-1] == "":
        out.pop()
    return "\n".join(_align(out)) + "\n"


def _align(lines: list[str]) -> list[str]:
    result = list(lines)
    run: list[tuple[int, str, str, str]] = []

    def flush() -> None:
        if len(run) > 0:
            width = max(len(key) for _, _, key, _ in run)
            for idx, pad, key, value in run:
                result[idx] = f"{pad}{key.ljust(width)} = {value}"
        run.clear()

    for idx, line in enumerate(lines):
        stripped = line.lstrip(" ")
        match = _ASSIGN.match(stripped)
        if match and _bracket_change(stripped)[0] == 0:
            pad = line[: len(line) - len(stripped)]
            run.append((idx, pad, match.group(1), match.group(2)))
        else:
            flush()
    flush()
    return result
