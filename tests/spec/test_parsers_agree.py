"""libyaml (the fast path) and PyYAML's pure-Python parser read a spec the same way.

`load_text` parses with libyaml first and falls back to the pure-Python parser for anything
libyaml rejects, so broken YAML keeps its messages. That is only sound if, wherever libyaml
accepts a document, the pure-Python parser accepts it too and gives the same data at the same
lines and columns. These tests check exactly that, on the bundled specs and on mutants.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.spec.load import (
    Positions,
    _FastLoader,
    _Loader,
    _to_data,
    _Unsure,
    libyaml_may_parse,
)
from tests.conftest import ROOT
from tests.test_hostile import (
    HOSTILE_STRINGS,
    PROPERTY,
    YAML_ALPHABET,
    mutated_specs,
    text_mutations,
    yaml_quoted,
)


def read(loader_class: type, text: str) -> Any:
    """(data, value positions, key positions, problems), or the error's class when rejected
    (or when the fast loader steps aside)."""
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
    except (yaml.YAMLError, _Unsure) as exc:
        return type(exc).__name__
    if root is None:
        return None
    positions, problems = Positions(), []
    data = _to_data(root, (), positions, problems, loader)
    return repr(data), positions.values, positions.keys, problems


def agree(text: str) -> None:
    if not libyaml_may_parse(text):
        return  # load_text gives these to the pure-Python parser alone
    fast = read(_FastLoader, text)
    if isinstance(fast, str):
        return  # libyaml rejects it, or steps aside: the pure-Python parser alone
    assert fast == read(_Loader, text)


SPECS = sorted(ROOT.glob("blueprints/*.yaml")) + sorted(ROOT.glob("tests/fixtures/**/*.yaml"))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_bundled_specs(path: Any) -> None:
    text = path.read_text("utf-8")
    assert not isinstance(read(_FastLoader, text), str)
    agree(text)


@settings(PROPERTY, max_examples=300)
@given(mutated_specs())
def test_structural_mutants(text: str) -> None:
    agree(text)


@settings(PROPERTY, max_examples=400)
@given(text_mutations())
def test_text_mutants(text: str) -> None:
    agree(text)


@settings(PROPERTY, max_examples=400)
@given(st.text(YAML_ALPHABET + "0123456789\r\x85\u2028\u2029\ufeffé\U0001F600", max_size=120))
def test_random_yaml_text(text: str) -> None:
    agree(text)


@pytest.mark.parametrize("value", HOSTILE_STRINGS)
def test_hostile_values_plain_and_quoted(value: str) -> None:
    for scalar in (value, yaml_quoted(value), f"'{value}'", f"|\n  {value}\n"):
        agree(f"name: {scalar}\nsite: sto1\n")
