"""JSON Schema (draft 2020-12) for the keywords the spec schema uses, and nothing else.

Why not the `jsonschema` package: importing it (with `referencing`, `attrs` and `rpds`) takes
about as long as generating the whole example blueprint, and the spec schema needs only the
keywords below. A keyword this module does not know makes it refuse the schema (it fails
closed rather than ignore a constraint), and `tests/test_schema_conformance.py` checks that it
reports exactly what `jsonschema` reports on the bundled specs, the rejected fixtures and
generated mutants.

Two deliberate departures from the standard, as the spec needs them: `pattern` uses
ECMA-262's `$` (end of string; Python's `re` also matches before a trailing newline), and
`integer` means a whole number written as one (`2.0` is not an integer here; it would reach
HCL as `2.0`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any, NamedTuple

# Annotations and keywords that carry no constraint.
_INERT = frozenset({"$schema", "$id", "$defs", "title", "description", "default", "x-messages"})


class Failure(NamedTuple):
    """One violated keyword; the field names are `jsonschema.ValidationError`'s, so the message
    layer (and the conformance test) can read either."""

    validator: str  # the keyword
    validator_value: Any
    instance: Any
    absolute_path: tuple[str | int, ...]
    schema: dict[str, Any]  # the schema node holding the keyword ($ref targets: the target)


class SchemaError(ValueError):
    """The schema uses a keyword or `$ref` this validator cannot evaluate."""


def _is_type(instance: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(instance, int) and not isinstance(instance, bool)
    if name == "number":
        return isinstance(instance, int | float) and not isinstance(instance, bool)
    return isinstance(instance, _TYPES[name])


_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str, "boolean": bool, "object": dict, "array": list, "null": type(None)}


def _canonical(value: Any) -> Any:
    """A hashable form in which JSON-equal values are equal: `1 == 1.0`, `true != 1`."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return ("number", int(value))
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, dict):
        return ("object", frozenset((k, _canonical(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("array", tuple(_canonical(v) for v in value))
    return (type(value).__name__, value)


def _equal(a: Any, b: Any) -> bool:
    return _canonical(a) == _canonical(b)


Path = tuple[str | int, ...]
Check = Callable[["Validator", Any, Any, Path, dict[str, Any]], Iterator[Failure]]


def _type(v: Validator, want: Any, instance: Any, path: Path, node: dict) -> Iterator[Failure]:
    names = want if isinstance(want, list) else [want]
    if not any(_is_type(instance, name) for name in names):
        yield Failure("type", want, instance, path, node)


def _properties(v: Validator, props: Any, instance: Any, path: Path,
                node: dict) -> Iterator[Failure]:
    if isinstance(instance, dict):
        for key, sub in props.items():
            if key in instance:
                yield from v.descend(instance[key], sub, (*path, key))


def _additional(v: Validator, extra: Any, instance: Any, path: Path,
                node: dict) -> Iterator[Failure]:
    if not isinstance(instance, dict) or extra is True:
        return
    known = node.get("properties", {})
    unknown = [key for key in instance if key not in known]
    if extra is False:
        if unknown:
            yield Failure("additionalProperties", extra, instance, path, node)
        return
    for key in unknown:
        yield from v.descend(instance[key], extra, (*path, key))


def _required(v: Validator, names: Any, instance: Any, path: Path,
              node: dict) -> Iterator[Failure]:
    if isinstance(instance, dict):
        for name in names:
            if name not in instance:
                yield Failure("required", names, instance, path, node)


def _enum(v: Validator, options: Any, instance: Any, path: Path, node: dict) -> Iterator[Failure]:
    if not any(_equal(instance, option) for option in options):
        yield Failure("enum", options, instance, path, node)


def _const(v: Validator, value: Any, instance: Any, path: Path, node: dict) -> Iterator[Failure]:
    if not _equal(instance, value):
        yield Failure("const", value, instance, path, node)


def _pattern(v: Validator, pattern: Any, instance: Any, path: Path,
             node: dict) -> Iterator[Failure]:
    if isinstance(instance, str):
        found = _compiled(pattern).search(instance)
        if found is None or (pattern.endswith("$") and found.end() != len(instance)):
            yield Failure("pattern", pattern, instance, path, node)


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _bound(keyword: str, applies: Callable[[Any], bool],
           measure: Callable[[Any], Any], too_small: bool) -> Check:
    """`minimum`/`maximum`/`minLength`/`maxLength`/`minItems`/`maxItems`: one shape."""

    def check(v: Validator, limit: Any, instance: Any, path: Path,
              node: dict) -> Iterator[Failure]:
        if applies(instance):
            size = measure(instance)
            if size < limit if too_small else size > limit:
                yield Failure(keyword, limit, instance, path, node)

    return check


def _is_number(instance: Any) -> bool:
    return _is_type(instance, "number")


def _items(v: Validator, sub: Any, instance: Any, path: Path, node: dict) -> Iterator[Failure]:
    if isinstance(instance, list):
        for index, item in enumerate(instance):
            yield from v.descend(item, sub, (*path, index))


def _unique(v: Validator, on: Any, instance: Any, path: Path, node: dict) -> Iterator[Failure]:
    if on and isinstance(instance, list):
        seen = {_canonical(item) for item in instance}
        if len(seen) != len(instance):
            yield Failure("uniqueItems", on, instance, path, node)


def _identity(value: Any) -> Any:
    return value


KEYWORDS: dict[str, Check] = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional,
    "required": _required,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "minimum": _bound("minimum", _is_number, _identity, too_small=True),
    "maximum": _bound("maximum", _is_number, _identity, too_small=False),
    "minLength": _bound("minLength", lambda i: isinstance(i, str), len, too_small=True),
    "maxLength": _bound("maxLength", lambda i: isinstance(i, str), len, too_small=False),
    "minItems": _bound("minItems", lambda i: isinstance(i, list), len, too_small=True),
    "maxItems": _bound("maxItems", lambda i: isinstance(i, list), len, too_small=False),
    "items": _items,
    "uniqueItems": _unique,
}


class Validator:
    """Validates instances against one schema document (local `$ref`s only)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        _check_schema(schema, schema)

    def iter_errors(self, instance: Any) -> Iterator[Failure]:
        """Every violated keyword, depth first."""
        return self.descend(instance, self.schema, ())

    def descend(self, instance: Any, node: Any, path: Path) -> Iterator[Failure]:
        if node is True:
            return
        if node is False:
            yield Failure("false", False, instance, path, {})
            return
        for keyword, value in node.items():
            if keyword == "$ref":
                yield from self.descend(instance, _target(self.schema, value), path)
            elif keyword not in _INERT:
                yield from KEYWORDS[keyword](self, value, instance, path, node)


def _target(schema: dict[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise SchemaError(f"$ref {ref!r}: only local references ('#/...') are supported")
    node: Any = schema
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise SchemaError(f"$ref {ref!r} points nowhere")
        node = node[part]
    return node


def _check_schema(node: Any, root: dict[str, Any]) -> None:
    """Refuse a schema with a keyword this validator would otherwise silently ignore."""
    if isinstance(node, bool):
        return
    if not isinstance(node, dict):
        raise SchemaError(f"a schema must be an object or a boolean, not {node!r}")
    for keyword, value in node.items():
        if keyword == "$ref":
            _target(root, value)
        elif keyword in ("$defs", "properties"):
            for sub in value.values():
                _check_schema(sub, root)
        elif keyword in ("additionalProperties", "items"):
            _check_schema(value, root)
        elif keyword not in KEYWORDS and keyword not in _INERT:
            raise SchemaError(f"schema keyword {keyword!r} is not supported by "
                              "generator.spec.validator")
