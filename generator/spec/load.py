"""Load a spec file safely, keeping the line and column of every key and value.

PyYAML's composer gives each node a start mark; we walk the node tree ourselves so that
every later error (schema or rule) can point at the exact place in the user's file. libyaml
scans and parses (fast); PyYAML's pure-Python parser takes over wherever the two could differ,
and for every error, so messages and positions are the pure-Python parser's.
Anchors and aliases are refused: a spec never needs them, and refusing them rules out
alias bombs by construction.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

import yaml
from yaml._yaml import CParser
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from generator.spec.errors import Path, Problem, SpecError

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
# C0 controls other than tab/newline/return, DEL and C1 controls: never part of a spec.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


@dataclass
class Positions:
    """1-based (line, column) of every value and of every mapping key, by key path."""

    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def of(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """Where `path` is; the nearest enclosing node when the path does not exist (missing key)."""
        if key and path in self.keys:
            return self.keys[path]
        while path:
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), (1, 1))


@dataclass
class LoadedSpec:
    """Plain data (dicts, lists, scalars; dates as ISO strings) plus where each part came from."""

    file: str
    data: Any
    positions: Positions


class _Checks(Composer):
    """The composer both parsers feed: refuses anchors/aliases and absurd nesting."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, AliasEvent) or (
            isinstance(event, ScalarEvent | CollectionStartEvent) and event.anchor
        ):
            raise yaml.MarkedYAMLError(
                problem="anchors and aliases (& and *) are not allowed in a spec",
                problem_mark=event.start_mark,
            )
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise yaml.MarkedYAMLError(
                problem=f"nesting deeper than {MAX_DEPTH} levels", problem_mark=event.start_mark
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Loader(_Checks, yaml.SafeLoader):
    """PyYAML's pure-Python scanner and parser: the reference, and the source of every message
    about broken YAML."""


class _Unsure(Exception):
    """libyaml met something it reads differently from the pure-Python parser."""


class _FastLoader(_Checks, CParser, SafeConstructor, Resolver):  # type: ignore[misc]
    """libyaml's scanner and parser (~7x faster) under the same composer, constructor and
    resolver. Where the two parsers differ, it steps aside (tests/spec/test_parsers_agree.py
    holds the rest to the same data, lines and columns): at an empty value, whose position
    libyaml puts elsewhere, and at an explicit tag (`!x`), whose syntax they check differently."""

    def __init__(self, stream: str) -> None:
        CParser.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if getattr(event, "tag", None) is not None:
            raise _Unsure  # an explicit tag: the two scanners accept different tag syntax
        if isinstance(event, ScalarEvent) and not event.value and not event.style:  # plain
            raise _Unsure
        return super().compose_node(parent, index)


def libyaml_may_parse(text: str) -> bool:
    """Whether libyaml may go first: text with a tab or a byte-order mark past the start goes
    to the pure-Python parser directly (it rejects tabs libyaml allows, and does not count a
    BOM as a column)."""
    return "\t" not in text and "\ufeff" not in text[1:]


def _compose(text: str) -> tuple[SafeConstructor, Node | None]:
    """The document's node tree and the loader that made it. libyaml goes first where it may;
    a document it rejects or is unsure of is parsed again by the pure-Python parser, so errors
    read as they always have."""
    if libyaml_may_parse(text):
        fast = _FastLoader(text)
        try:
            return fast, fast.get_single_node()
        except (yaml.YAMLError, _Unsure):
            fast.dispose()
    loader = _Loader(text)
    return loader, loader.get_single_node()


def _mark(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _fail(file: str, line: int, column: int, message: str) -> SpecError:
    return SpecError(file, [Problem(line, column, (), message)])


_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based line and column as YAML counts them (CR, LF, CRLF, NEL, LS and PS break lines)."""
    breaks = list(_BREAK.finditer(text, 0, index))
    start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, index - start + 1


def load_text(text: str, file: str) -> LoadedSpec:
    """Parse YAML text into data + positions, or raise SpecError with the location."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _fail(file, 1, 1, f"the spec is larger than {MAX_BYTES} bytes")
    bad = _CONTROL.search(text)
    if bad:
        line, column = _position(text, bad.start())
        raise _fail(file, line, column, f"control character U+{ord(bad.group()):04X} is not "
                    "allowed in a spec")
    try:
        loader, root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "not valid YAML"
        if "\\t" in problem or "'\\t'" in str(exc):
            problem += " (tabs are not allowed for indentation in YAML: use spaces)"
        raise _fail(file, line, column, f"not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise _fail(file, 1, 1, f"not valid YAML: {exc}") from None
    except RecursionError:
        raise _fail(file, 1, 1, "not valid YAML: nesting too deep") from None
    loader.dispose()
    if root is None:
        raise _fail(file, 1, 1, "the spec is empty; expected a mapping that starts with `version: 1`")
    positions = Positions()
    problems: list[Problem] = []
    data = _to_data(root, (), positions, problems, loader)
    if problems:
        raise SpecError(file, problems)
    if not isinstance(data, dict):
        line, column = _mark(root)
        raise _fail(file, line, column, "expected a mapping of keys (version, name, site, ...)"
                    f", got {a_kind(data)}")
    return LoadedSpec(file=file, data=data, positions=positions)


def load_file(path: str | FsPath) -> LoadedSpec:
    """Read a spec file (UTF-8, at most 1 MiB) and parse it."""
    file = str(path)
    try:
        raw = FsPath(path).read_bytes()
    except OSError as exc:
        raise _fail(file, 1, 1, f"cannot read the spec: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise _fail(file, 1, 1, f"the spec is {len(raw)} bytes; at most {MAX_BYTES} are accepted")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise _fail(file, line, column,
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the spec as UTF-8") from None
    if "\x00" in text:
        raise _fail(file, 1, 1, "the spec contains NUL characters; it is not a text file")
    return load_text(text, file)


def _kind(value: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", bool: "boolean", int: "integer",
            float: "number", type(None): "null"}.get(type(value), type(value).__name__)


def a_kind(value: Any) -> str:
    """`a list`, `an integer`: the kind with its article."""
    kind = _kind(value)
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def _to_data(node: Node, path: Path, pos: Positions, problems: list[Problem],
             loader: SafeConstructor) -> Any:
    pos.values[path] = _mark(node)
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line, column = _mark(key_node)
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(Problem(line, column, path, "keys must be plain names"))
                continue
            key = unicodedata.normalize("NFC", key_node.value)
            if key in out:
                problems.append(Problem(line, column, (*path, key), f"duplicate key '{key}'"))
                continue
            pos.keys[(*path, key)] = (line, column)
            out[key] = _to_data(value_node, (*path, key), pos, problems, loader)
        return out
    if isinstance(node, SequenceNode):
        return [_to_data(item, (*path, i), pos, problems, loader)
                for i, item in enumerate(node.value)]
    if node.tag == _TIMESTAMP:
        # Dates stay text: the schema and the rules check them (an impossible date such as
        # 2027-02-30 gets a located message instead of a parser error).
        return node.value
    try:
        value = loader.construct_object(node, deep=True)
    except ValueError as exc:
        line, column = _mark(node)
        reason = "this number is too large" if "digits" in str(exc) or "int" in str(exc) \
            else f"cannot read this value as {node.tag.rsplit(':', 1)[-1]}"
        problems.append(Problem(line, column, path, reason))
        return None
    except (yaml.YAMLError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        line, column = _mark(node)
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        problems.append(Problem(line, column, path, f"cannot read this value ({detail})"))
        return None
    if isinstance(value, str):
        if _SURROGATE.search(value):
            line, column = _mark(node)
            problems.append(Problem(line, column, path, "not valid Unicode text (a lone "
                                    "surrogate escape such as \\ud800)"))
            return None
        # Terraform reads every string in NFC form; the spec means what Terraform will read.
        return unicodedata.normalize("NFC", value)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        line, column = _mark(node)
        problems.append(Problem(line, column, path, "this number is too large"))
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        line, column = _mark(node)
        problems.append(Problem(line, column, path, "binary values are not allowed"))
        return None
    return value
