"""The published JSON Schema: validation with friendly, located messages, and its defaults.

The schema file is the one place that states the spec's shape and its constant defaults;
`x-messages` in it carry the human wording for pattern and enum failures (`{value}` and
`{hint}` in one stand for the rejected value and a "did you mean").
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from generator.spec.errors import Path, Problem
from generator.spec.load import LoadedSpec, _kind
from generator.spec.validator import Failure, Validator


@cache
def schema_text() -> str:
    """The schema file exactly as published in the package."""
    return resources.files("generator").joinpath("spec/schema.json").read_text("utf-8")


@cache
def schema() -> dict[str, Any]:
    """The parsed schema (do not mutate)."""
    return json.loads(schema_text())


@cache
def _validator() -> Validator:
    return Validator(schema())


_TYPE_NAMES = {"integer": "a whole number", "string": "a string", "boolean": "true or false",
               "object": "a mapping", "array": "a list", "number": "a number"}


def validate(spec: LoadedSpec) -> list[Problem]:
    """Every schema violation in the spec, each at its line and column."""
    return problems_from(_validator().iter_errors(spec.data), spec)


def problems_from(failures: Iterable[Failure], spec: LoadedSpec) -> list[Problem]:
    """Problems a user reads, from violated keywords (ours, or `jsonschema`'s errors, which
    have the same fields: the conformance test compares the two this way)."""
    return [problem for failure in failures for problem in _problems(failure, spec)]


def _problems(error: Failure, spec: LoadedSpec) -> list[Problem]:
    path: Path = tuple(error.absolute_path)
    at = spec.positions.of
    node = error.schema if isinstance(error.schema, dict) else {}
    custom = node.get("x-messages", {}).get(error.validator)
    value = error.instance
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        out = []
        for key in sorted(set(value) - set(allowed)):
            hint = difflib.get_close_matches(key, allowed, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else f"; allowed: {', '.join(allowed)}"
            line, column = at((*path, key), key=True)
            out.append(Problem(line, column, (*path, key), f"unknown key '{key}'{suggestion}"))
        return out
    if error.validator == "required":
        line, column = at(path)
        return [Problem(line, column, (*path, name), "missing required key")
                for name in error.validator_value if name not in value]
    line, column = at(path)
    if custom:
        # `{value}` and `{hint}` in a message stand for the value and a "did you mean".
        hint = ""
        if error.validator == "enum" and "{hint}" in custom:
            close = difflib.get_close_matches(str(value), [str(o) for o in error.validator_value],
                                              n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
        message = custom.replace("{value}", _show(value)).replace("{hint}", hint)
    elif error.validator == "type":
        wanted = _TYPE_NAMES.get(error.validator_value, error.validator_value)
        message = f"must be {wanted}, not {_kind(value)} {_show(value)}"
    elif error.validator == "enum":
        options = ", ".join(str(o) for o in error.validator_value)
        hint = difflib.get_close_matches(str(value), [str(o) for o in error.validator_value], n=1)
        message = f"{_show(value)} is not one of: {options}" + (
            f" (did you mean '{hint[0]}'?)" if hint else "")
    elif error.validator == "const":
        message = f"must be {error.validator_value!r}"
    elif error.validator in ("minimum", "maximum"):
        word = "at least" if error.validator == "minimum" else "at most"
        message = f"must be {word} {error.validator_value}, not {_show(value)}"
    elif error.validator in ("minItems", "maxItems"):
        word = "at least" if error.validator == "minItems" else "at most"
        message = f"must have {word} {error.validator_value} entries"
    elif error.validator == "maxLength":
        message = f"must be at most {error.validator_value} characters long"
    elif error.validator == "uniqueItems":
        message = "entries must be unique"
    elif error.validator == "pattern":
        message = f"{_show(value)} does not match {error.validator_value}"
    else:
        message = error.message
    return [Problem(line, column, path, message)]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def apply_defaults(data: Any, node: dict[str, Any] | None = None) -> Any:
    """A copy of `data` with the schema's constant defaults filled in (only for valid data)."""
    node = _deref(node if node is not None else schema())
    if isinstance(data, dict):
        out = dict(data)
        for key, sub in node.get("properties", {}).items():
            sub = _deref(sub)
            if key not in out and "default" in sub:
                out[key] = copy.deepcopy(sub["default"])
            if key in out:
                out[key] = apply_defaults(out[key], sub)
        return out
    if isinstance(data, list) and "items" in node:
        return [apply_defaults(item, node["items"]) for item in data]
    return data


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    target = schema()
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return _deref(merged)
