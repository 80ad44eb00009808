"""Broken files get one clear, located message each, never a traceback."""

from __future__ import annotations

import pytest

from generator.spec import SpecError, check_text
from generator.spec.load import load_file
from tests.conftest import TODAY


def first_problem(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        check_text(text, "s.yaml", TODAY)
    return caught.value.problems[0].format("s.yaml")


def test_empty_file() -> None:
    assert first_problem("") == ("s.yaml:1:1: (document): the spec is empty; expected a mapping "
                                 "that starts with `version: 1`")


def test_list_instead_of_mapping() -> None:
    assert first_problem("- version: 1\n") == (
        "s.yaml:1:1: (document): expected a mapping of keys (version, name, site, ...), got a list")


def test_tabs_are_explained() -> None:
    message = first_problem("version: 1\nname: abc\n\tsite: sto1\n")
    assert message.startswith("s.yaml:3:1: (document): not valid YAML: found character '\\t'")
    assert "tabs are not allowed" in message


def test_aliases_are_refused() -> None:
    text = "version: 1\nname: &n abc\ndescription: *n\nsite: sto1\n"
    assert first_problem(text) == ("s.yaml:2:7: (document): not valid YAML: anchors and aliases "
                                   "(& and *) are not allowed in a spec")


def test_alias_bomb_is_refused_quickly() -> None:
    bomb = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nd: &d [*c,*c]\ne: [*d,*d]\n'
    assert "anchors and aliases" in first_problem(bomb)


def test_deep_nesting_is_refused() -> None:
    assert "nesting deeper than 32 levels" in first_problem("a: " + "[" * 5000 + "]" * 5000)


def test_python_tags_are_refused() -> None:
    message = first_problem("version: 1\nname: !!python/object:os.system abc\nsite: sto1\n")
    assert message.startswith("s.yaml:2:7: name: cannot read this value")


def test_non_utf8_bytes(tmp_path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_bytes(b"version: 1\nname: caf\xe9\n")
    with pytest.raises(SpecError) as caught:
        load_file(spec)
    assert caught.value.problems[0].format("s.yaml") == (
        "s.yaml:2:10: (document): not UTF-8 text (byte 0xe9); save the spec as UTF-8")


def test_missing_file(tmp_path) -> None:
    with pytest.raises(SpecError) as caught:
        load_file(tmp_path / "nope.yaml")
    assert "cannot read the spec" in str(caught.value)


def test_unquoted_dates_and_quoted_dates_mean_the_same(valid_spec_text: str) -> None:
    quoted = valid_spec_text.replace("expires: 2027-01-31", "expires: '2027-01-31'")
    a = check_text(valid_spec_text, "a.yaml", TODAY).spec
    b = check_text(quoted, "b.yaml", TODAY).spec
    assert a.access == b.access
