"""`generator.spec.validator` against `jsonschema`, the reference implementation.

The generator validates specs with its own small validator (importing `jsonschema` costs as
much as generating the example blueprint). These tests hold it to the reference: on the bundled
specs, curated near misses and hundreds of generated mutants, both must report exactly the same
problems, through the same message layer. The reference gets the spec's two deliberate
departures (ECMA-262 `$` in `pattern`, `2.0` is not an integer) the way the generator used to
configure it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from generator.spec import SpecError
from generator.spec.load import load_text
from generator.spec.schema import problems_from, schema
from generator.spec.validator import KEYWORDS, SchemaError, Validator
from tests.conftest import ROOT
from tests.test_hostile import PROPERTY, mutated_specs, text_mutations, with_scalar


def _pattern(validator: Any, pattern: str, instance: Any, node: dict[str, Any]) -> Iterator[Any]:
    if isinstance(instance, str):
        found = re.search(pattern, instance)
        if found is None or (pattern.endswith("$") and found.end() != len(instance)):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _is_integer(_: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


REFERENCE = validators.extend(
    Draft202012Validator, validators={"pattern": _pattern},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)(schema())
OURS = Validator(schema())


def compare(text: str) -> int:
    """Both validators' problems for `text` (when it parses as YAML); returns how many."""
    try:
        loaded = load_text(text, "s.yaml")
    except SpecError:
        return 0  # not YAML (or not a mapping): neither validator runs
    ours = sorted(set(problems_from(OURS.iter_errors(loaded.data), loaded)))
    reference = sorted(set(problems_from(REFERENCE.iter_errors(loaded.data), loaded)))
    assert ours == reference
    return len(ours)


SPECS = sorted(ROOT.glob("blueprints/*.yaml")) + sorted(ROOT.glob("tests/fixtures/**/*.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_bundled_specs_agree(path: Any) -> None:
    compare(path.read_text("utf-8"))


PORTAL = (ROOT / "blueprints" / "patient-portal.yaml").read_text("utf-8")
NEAR_MISSES = {
    "unknown key": ("name: patient-portal", "name: patient-portal\nnmae: x"),
    "missing required": ("name: patient-portal\n", ""),
    "wrong type": ("name: patient-portal", "name: [patient-portal]"),
    "enum": ("site: sto1", "site: sto9"),
    "pattern with trailing newline": ("name: patient-portal", 'name: "web\\n"'),
    "float as integer": ("count: 2", "count: 2.0"),
    "bool as integer": ("count: 2", "count: true"),
    "below minimum": ("count: 2", "count: -1"),
    "above maximum": ("count: 2", "count: 100000"),
    "duplicate list entries": ("ssh_from: [192.0.2.0/24]", "ssh_from: [192.0.2.0/24, 192.0.2.0/24]"),
    "too long": ("name: patient-portal", "name: " + "a" * 300),
    "null": ("site: sto1", "site: ~"),
}


@pytest.mark.parametrize("case", sorted(NEAR_MISSES))
def test_near_misses_agree_and_are_rejected(case: str) -> None:
    old, new = NEAR_MISSES[case]
    assert compare(with_scalar(PORTAL, old, new)) > 0


@settings(PROPERTY, max_examples=300)
@given(mutated_specs())
def test_mutated_specs_agree(text: str) -> None:
    compare(text)


@settings(PROPERTY, max_examples=150)
@given(text_mutations())
def test_text_mutations_agree(text: str) -> None:
    compare(text)


def test_every_keyword_the_schema_uses_is_evaluated() -> None:
    """A keyword the validator does not know must stop it, not be skipped."""
    with pytest.raises(SchemaError, match="'oneOf' is not supported"):
        Validator({"properties": {"a": {"oneOf": [{"type": "string"}]}}})
    with pytest.raises(SchemaError, match="points nowhere"):
        Validator({"items": {"$ref": "#/$defs/missing"}})
    with pytest.raises(SchemaError, match="only local"):
        Validator({"$ref": "https://example.org/schema.json"})
    assert {"type", "pattern", "uniqueItems", "additionalProperties"} <= set(KEYWORDS)


@pytest.mark.parametrize(("node", "instance", "keyword"), [
    ({"uniqueItems": True}, [1, 1.0], "uniqueItems"),
    ({"uniqueItems": True}, [{"a": [1]}, {"a": [1.0]}], "uniqueItems"),
    ({"enum": [1]}, True, "enum"),
    ({"const": False}, 0, "const"),
    ({"minLength": 2}, "a", "minLength"),
    ({"minItems": 1}, [], "minItems"),
    ({"maximum": 3}, 3.5, "maximum"),
    ({"type": ["string", "null"]}, 1, "type"),
    ({"additionalProperties": {"type": "integer"}}, {"a": "x"}, "type"),
])
def test_keywords_outside_the_spec_schema_match_the_reference(node: dict, instance: Any,
                                                              keyword: str) -> None:
    ours = [(f.validator, tuple(f.absolute_path)) for f in Validator(node).iter_errors(instance)]
    reference = [(e.validator, tuple(e.absolute_path))
                 for e in Draft202012Validator(node).iter_errors(instance)]
    assert ours == reference
    assert ours and ours[0][0] == keyword
