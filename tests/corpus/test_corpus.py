"""The pack on the corpus (tests/corpus/expect.yaml): every verdict a person gave, in both modes.

Each root reproduces a pattern found in public OpenStack Terraform: a false FAIL the pack gave,
or a problem it did not see. A failed finding nobody expects, an expected failure not given, an
UNKNOWN nobody expects (in plan mode: something left unresolved) all fail here. Roots Terraform
cannot plan offline yet are scanned in HCL mode only, and say why (benchmarks/corpus.py prints
the share); once they plan, they are held to the same expectations in plan mode.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from ..conftest import ROOT


def _corpus() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "benchmarks" / "corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


CORPUS = _corpus()


@pytest.fixture(scope="module")
def corpus_run() -> tuple[list, dict[str, str]]:
    return CORPUS.run()


def test_every_root_has_its_expectations() -> None:
    roots = CORPUS.expectations()
    written = {p.name for p in CORPUS.CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert written == set(roots)
    for name, root in roots.items():
        assert root["pattern"] and root["seen_in"] and root["expect"], name
        assert root["plannable"] is True or str(root["plannable"]).startswith("no:"), name


@pytest.mark.parametrize("mode", ["hcl", "plan"])
def test_the_pack_agrees_with_every_verdict(corpus_run: tuple[list, dict[str, str]], mode: str) -> None:
    tallies, _ = corpus_run
    found = next(t for t in tallies if t.mode == mode)
    assert found.disagreements == []
    assert found.true_fail > 0 and found.precision == 1.0 and found.recall == 1.0


def test_roots_said_to_plan_do_plan(corpus_run: tuple[list, dict[str, str]]) -> None:
    _, planned = corpus_run
    roots = CORPUS.expectations()
    assert {n for n, r in roots.items() if r["plannable"] is True} <= {n for n, v in planned.items()
                                                                       if v == "planned"}


def test_the_pack_sees_more_of_the_problems_than_checkovs_openstack_checks(
        corpus_run: tuple[list, dict[str, str]]) -> None:
    hcl = next(t for t in corpus_run[0] if t.mode == "hcl")
    assert hcl.recall >= hcl.builtin_recall and hcl.problems > 0
