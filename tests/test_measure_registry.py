"""One vocabulary of measure names: what the generator and modules write as evidence (metadata
and tags `ssb_measures`) and what the checks look for are all registered names
(generator/data/measures.yaml), so a producer and a consumer cannot drift apart."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from generator import measures
from generator.policies import DIRECTORY as POLICIES
from tests.conftest import ROOT

BLUEPRINTS = ROOT / "blueprints"
METADATA = re.compile(r'ssb_measures\s*=\s*"([^"]*)"')


def test_the_forms_round_trip() -> None:
    names = ["luks-tang", "audit", "local-logs"]
    assert measures.for_metadata(names) == "audit,local-logs,luks-tang"
    assert measures.parse(measures.for_metadata(names)) == set(names)
    assert measures.for_tags(["versioning", "tls-only"]) == "tls-only versioning"
    assert measures.parse("tls-only versioning") == {"tls-only", "versioning"}


@pytest.mark.parametrize("bad", [["luks-tangg"], ["versioning"]])
def test_an_unregistered_or_misplaced_name_is_refused(bad: list[str]) -> None:
    with pytest.raises(ValueError, match="not registered for instance"):
        measures.for_metadata(bad)  # a typo, and a bucket measure on an instance


def _produced() -> dict[str, set[str]]:
    """Every name the committed blueprints write: instance metadata (main.tf, with commas)
    and bucket tags (storage.tf, bootstrap; with spaces), and the modules' own HCL."""
    found: dict[str, set[str]] = {"instance": set(), "bucket": set()}
    for path in BLUEPRINTS.rglob("*.tf"):
        if "/modules/" in str(path):
            continue
        for value in METADATA.findall(path.read_text("utf-8")):
            # Instance groups are in the root's main.tf; buckets in storage.tf and bootstrap/.
            on = "instance" if path.name == "main.tf" and path.parent.parent == BLUEPRINTS \
                else "bucket"
            found[on] |= measures.parse(value)
    backup = (ROOT / "modules" / "backup-bucket" / "main.tf").read_text("utf-8")
    block = re.search(r"measures = join\(\" \", \[(.*?)\]\)", backup, re.S)
    assert block, "the backup-bucket module builds its ssb_measures tag elsewhere now"
    for token in re.findall(r'"([a-z0-9${}().-]+)"', block.group(1)):
        if "${" in token:  # object-lock-${lower(var.lock_mode)}
            found["bucket"] |= {token.split("${")[0] + mode for mode in ("governance",
                                                                          "compliance")}
        else:
            found["bucket"].add(token)
    return found


def test_every_name_a_blueprint_writes_is_registered() -> None:
    produced = _produced()
    assert produced["instance"] and produced["bucket"]
    for on, names in produced.items():
        assert measures.require(names, on)


def _consumed(path: Path) -> set[str]:
    """Names a check compares with an instance's measures: `"x" in measures`, `MEASURE = "x"`,
    and the literals of a loop whose variable is compared with them."""
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    loop_vars: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        iters = []
        if isinstance(node, ast.For | ast.comprehension):
            iters = [(node.target, node.iter)]
        for target, it in iters:
            consts = [c.value for c in ast.walk(it) if isinstance(c, ast.Constant)
                      and isinstance(c.value, str)]
            for t in ast.walk(target):
                if isinstance(t, ast.Name):
                    loop_vars.setdefault(t.id, set()).update(consts)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "MEASURE"
                                                for t in node.targets):
            names.add(node.value.value)  # type: ignore[attr-defined]
        if isinstance(node, ast.Compare) and any(isinstance(o, ast.In | ast.NotIn)
                                                 for o in node.ops):
            right = node.comparators[0]
            if isinstance(right, ast.Name) and "measures" in right.id:
                left = node.left
                if isinstance(left, ast.Constant) and isinstance(left.value, str):
                    names.add(left.value)
                elif isinstance(left, ast.Name) and left.id in loop_vars:
                    names |= {v for v in loop_vars[left.id] if re.fullmatch(r"[a-z][a-z0-9-]*", v)}
    return names


def test_every_name_a_check_looks_for_is_registered() -> None:
    consumers = [p for p in sorted(POLICIES.glob("ckv_gdpr_*.py")) if "measures_of" in p.read_text()]
    assert len(consumers) >= 3
    looked_for = set().union(*(_consumed(p) for p in consumers))
    assert {"egress-proxy-client", "egress-allow-list", "local-logs", "luks-tang",
            "backup-restic"} <= looked_for
    assert measures.require(looked_for, "instance")


def test_the_registry_explains_every_name() -> None:
    raw = yaml.safe_load((ROOT / "generator" / "data" / "measures.yaml").read_text("utf-8"))
    assert set(raw["measures"]) == set(measures.registry())
    assert all(len(m.means.split()) >= 4 for m in measures.registry().values())


def test_the_most_an_instance_can_carry_fits_novas_metadata_limit() -> None:
    """Nova takes metadata values of at most 255 characters: an application group with every
    measure it can get (private, an endpoint, volumes, backups, logins, anti-affinity) fits."""
    proxy_or_collector = {"egress-allow-list", "egress-log", "time-server", "log-collector-tls"}
    most = [m.name for m in measures.registry().values()
            if m.resource == "instance" and m.name not in proxy_or_collector]
    assert len(measures.for_metadata(most)) <= 255, len(measures.for_metadata(most))
