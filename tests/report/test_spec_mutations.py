"""Spec-side twin of tests/test_mutations.py: a measure left off in the spec is never a PASS.

Each mutation edits the example spec (personal data, every measure on) the way a user could,
to leave one control's measure off. It is killed when either the spec checks reject it (as
`generate` does: nothing is written, exit 2), or the compliance report of the blueprint
generated from it shows that control as something other than PASS in the report model and in
its JSON, Markdown and HTML forms. Every control of the catalogue has at least one mutation;
the kill rate must be 100%.

The accepted mutations are generated and scanned for real (in-process, a small fork pool, as in
tests/test_mutations.py); "today" is the suite's pinned date.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import multiprocessing
import os
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import api
from generator.controls import controls
from generator.report import FAIL, PASS, build, to_html, to_json, to_markdown
from generator.scan import ScanResult, scan
from generator.spec import SpecError, check_text
from generator.spec.errors import format_path
from tests.conftest import TODAY
from tests.report.conftest import BLUEPRINTS
from tests.report.test_report import assert_no_unearned_pass

Spec = dict[str, Any]


@dataclass(frozen=True)
class SpecMutation:
    """Edit the example spec so `control`'s measure is off; `rejected`: the spec checks refuse it."""

    control: str
    name: str
    edit: Callable[[Spec], None]
    rejected: bool


def _set(*path: Any, value: Any) -> Callable[[Spec], None]:
    def edit(spec: Spec) -> None:
        node = spec
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


def _drop(key: str) -> Callable[[Spec], None]:
    def edit(spec: Spec) -> None:
        del spec[key]
    return edit


def _no_volumes(spec: Spec) -> None:
    for group in spec["instances"]:
        group.pop("volumes", None)


MUTATIONS: tuple[SpecMutation, ...] = (
    SpecMutation("GDPR-LOG-1", "no central log collector",
                 _set("logging", "central", value=False), rejected=False),
    SpecMutation("GDPR-LOG-1", "no intrusion detection",
                 _set("logging", "intrusion_detection", value=False), rejected=False),
    SpecMutation("GDPR-BAK-1", "no data volumes, so no backup job", _no_volumes, rejected=False),
    SpecMutation("GDPR-BAK-1", "no backup site", _drop("backup_site"), rejected=True),
    SpecMutation("GDPR-BAK-1", "backups on the data's own site",
                 _set("backup_site", value="sto2"), rejected=True),
    SpecMutation("GDPR-REV-1", "no review date", _drop("review_by"), rejected=False),
    SpecMutation("GDPR-ENC-1", "volume not encrypted in the guest",
                 _set("instances", 0, "volumes", 0, "encryption", value="none"), rejected=True),
    SpecMutation("GDPR-ENC-2", "TLS 1.1 allowed", _set("endpoints", 0, "min_tls", value="1.1"),
                 rejected=True),
    SpecMutation("GDPR-ACC-1", "access without a near end date",
                 _set("access", 0, "expires", value=dt.date(2029, 1, 1)), rejected=True),
    SpecMutation("GDPR-ACC-2", "SSH from the whole internet",
                 _set("instances", 0, "ssh_from", value=["0.0.0.0/0"]), rejected=True),
    SpecMutation("GDPR-ACC-2", "public bucket", _set("buckets", 0, "public", value=True),
                 rejected=True),
    SpecMutation("GDPR-RED-1", "single-copy local disk",
                 _set("instances", 0, "flavor", value="l2.c2r4.100"), rejected=True),
    SpecMutation("GDPR-RES-1", "a site in a third country", _set("site", value="us-east-1"),
                 rejected=True),
    SpecMutation("GDPR-RES-2", "a site outside Safespring", _set("site", value="eu-north-1"),
                 rejected=True),
    SpecMutation("GDPR-EGR-1", "no egress proxy for the private group",
                 _set("egress", value={"proxy": "none"}), rejected=False),
    SpecMutation("GDPR-LIM-1", "a bucket without an end date",
                 _set("buckets", 0, "retention_days", value=0), rejected=True),
    # The example writes keep.monthly 12: deleted data stays in the backups 409 days.
    SpecMutation("GDPR-LIM-1", "backups kept longer than the retention",
                 _set("data", "retention_days", value=300), rejected=True),
    SpecMutation("GDPR-BAK-2", "GOVERNANCE lock on personal data",
                 _set("backup", "lock", value={"mode": "GOVERNANCE"}), rejected=False),
    SpecMutation("GDPR-ACC-1", "the same SSH key for two persons", lambda spec: _logins(
        spec, shared=True), rejected=True),
    SpecMutation("GDPR-ACC-1", "an instance login for an application", lambda spec: spec[
        "access"][1].update(ssh_key=KEYS[1]), rejected=True),
)

# Public halves of throwaway keys (no private key exists anywhere).
KEYS = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFgkVKhu7KnL4TQVyJo/Mc9D98TiKJLxwETjmwr61Man",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiA4C7lJxPTniYoj3/3c7fdCxAJHTS8r4ShSr024oA8")


def _logins(spec: Spec, *, shared: bool = False) -> None:
    """anna gets her own key and holds the break glass; a member joins with a key of theirs."""
    spec["access"][0]["ssh_key"] = KEYS[0]
    spec["access"].append({"name": "nils.ek", "kind": "person", "role": "member",
                           "expires": dt.date(2027, 6, 30),
                           "ssh_key": KEYS[0] if shared else KEYS[1]})
    spec["break_glass"] = {"holder": "anna.svensson", "expires": dt.date(2027, 6, 30)}


def _individual_logins_only(spec: Spec) -> None:
    _logins(spec)
    spec["access"] = [a for a in spec["access"] if a["kind"] == "person"]


def _buckets_without_backups(spec: Spec) -> None:
    _no_volumes(spec)
    del spec["backup"]


def _no_private_network(spec: Spec) -> None:
    for group in spec["instances"]:
        group["network"] = "default"


# Accepted specs that switch a measure on or half on (STATES says what each must show).
VARIANTS: dict[str, Callable[[Spec], None]] = {
    "individual logins, no application credential": _individual_logins_only,
    "TLS at the special-category default": lambda spec: spec["endpoints"][0].pop("min_tls"),
    "buckets only, no backups": _buckets_without_backups,
    "personal data without a private network": _no_private_network,
}

# Each control switched on, off and half on: (control, state, spec, status). The spec is a
# mutation or variant name, None for the example as committed; "rejected": `generate` refuses
# it (exit 2). tests/test_mutations.py does the same to the generated files.
NE, NA = "NOT EVIDENCED", "NOT APPLICABLE"
STATES: tuple[tuple[str, str, str | None, str], ...] = (
    ("GDPR-LOG-1", "on", None, PASS),
    ("GDPR-LOG-1", "off", "no central log collector", FAIL),
    ("GDPR-ACC-1", "on", "individual logins, no application credential", PASS),
    ("GDPR-ACC-1", "half", None, NE),  # ci-deployer's secret is in the state
    ("GDPR-ACC-1", "off", "access without a near end date", "rejected"),
    ("GDPR-ACC-1", "off", "the same SSH key for two persons", "rejected"),
    ("GDPR-ACC-2", "on", None, PASS),
    ("GDPR-ACC-2", "off", "SSH from the whole internet", "rejected"),
    ("GDPR-ENC-1", "on", None, PASS),
    ("GDPR-ENC-1", "off", "volume not encrypted in the guest", "rejected"),
    ("GDPR-ENC-2", "on", "TLS at the special-category default", PASS),
    ("GDPR-ENC-2", "half", None, NE),  # min_tls "1.2" for special categories
    ("GDPR-ENC-2", "off", "TLS 1.1 allowed", "rejected"),
    ("GDPR-BAK-1", "on", None, PASS),
    ("GDPR-BAK-1", "off", "no data volumes, so no backup job", FAIL),
    ("GDPR-BAK-2", "half", None, NE),  # COMPLIANCE: the last 14 days only
    ("GDPR-BAK-2", "off", "GOVERNANCE lock on personal data", FAIL),
    ("GDPR-REV-1", "half", None, NE),  # a review date: a process, never machine-evidenced
    ("GDPR-REV-1", "off", "no review date", FAIL),
    ("GDPR-RED-1", "on", None, PASS),
    ("GDPR-RED-1", "off", "single-copy local disk", "rejected"),
    ("GDPR-RES-1", "on", None, PASS),
    ("GDPR-RES-1", "off", "a site in a third country", "rejected"),
    ("GDPR-RES-2", "on", None, PASS),
    ("GDPR-RES-2", "off", "a site outside Safespring", "rejected"),
    ("GDPR-EGR-1", "on", None, PASS),
    ("GDPR-EGR-1", "half", "personal data without a private network", NE),
    ("GDPR-EGR-1", "off", "no egress proxy for the private group", FAIL),
    ("GDPR-LIM-1", "on", "buckets only, no backups", PASS),
    ("GDPR-LIM-1", "half", None, NE),  # backups: enforced by the instances, not the storage
    ("GDPR-LIM-1", "off", "backups kept longer than the retention", "rejected"),
    ("GDPR-LIM-2", "half", None, NE),  # data on volumes: the application's duty
    ("GDPR-LIM-2", "not there", "buckets only, no backups", NA),
)
# Why a control lacks a state in STATES.
NO_STATE = {
    ("GDPR-LOG-1", "half"): "central logging and intrusion detection are on or off in spec v1",
    ("GDPR-ACC-2", "half"): "every rule is explicit or the spec is rejected",
    ("GDPR-ENC-1", "half"): "a volume is encrypted in the guest or not",
    ("GDPR-BAK-1", "half"): "every group with volumes is backed up to the other site or none is",
    ("GDPR-BAK-2", "on"): "needs instance keys that cannot delete versions: Safespring Storage "
                          "offers them only across projects, which the blueprint does not set up",
    ("GDPR-REV-1", "on"): "a process control: no resource can evidence it",
    ("GDPR-RED-1", "half"): "a flavor is central three-copy storage or local single-copy",
    ("GDPR-RES-1", "half"): "every provider points at a Safespring site (in the EU/EEA) or the "
                            "spec is rejected",
    ("GDPR-RES-2", "half"): "every provider points at a Safespring site or the spec is rejected",
    ("GDPR-LIM-2", "on"): "what an application deletes cannot be machine-checked",
    ("GDPR-LIM-2", "off"): "see on",
}

EXAMPLE = BLUEPRINTS / "patient-portal.yaml"


def _logging_and_backups_off(spec: Spec) -> None:
    """The spec a DPO tried: personal data, no central logging, no intrusion detection, and
    (no data volumes, no backup section) no backup job."""
    spec["logging"] = {"central": False, "retention_days": 180, "intrusion_detection": False}
    del spec["backup"]
    _no_volumes(spec)


ALL_OFF = SpecMutation("GDPR-LOG-1", "logging and backups off", _logging_and_backups_off,
                       rejected=False)


def _mutated_text(mutation: SpecMutation) -> str:
    spec = copy.deepcopy(yaml.safe_load(EXAMPLE.read_text("utf-8")))
    mutation.edit(spec)
    return yaml.safe_dump(spec, sort_keys=False)


def _scan_one(directory: str) -> ScanResult:
    return scan(directory)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Mutation name -> the report of the blueprint generated from the mutated spec."""
    work = tmp_path_factory.mktemp("spec-mutations")
    jobs: dict[str, Path] = {}
    variants = [SpecMutation("", name, edit, rejected=False) for name, edit in VARIANTS.items()]
    for i, m in enumerate((*MUTATIONS, ALL_OFF, *variants)):
        if m.rejected:
            continue
        spec = work / f"m{i:02d}.yaml"
        spec.write_text(_mutated_text(m), "utf-8")
        api.generate(spec, work / f"m{i:02d}", on=TODAY)
        jobs[m.name] = work / f"m{i:02d}"
    import generator.scan  # noqa: F401  (import Checkov once, before forking)

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(4, os.cpu_count() or 1), mp_context=context) as pool:
        scans = dict(zip(jobs, pool.map(_scan_one, map(str, jobs.values())), strict=True))
    return {name: build(directory, today=TODAY, result=scans[name])
            for name, directory in jobs.items()}


# Controls judged on what a plan changes against a state, not on a spec: no spec edit turns
# their measure off. Their mutations are changes to an applied deployment (a deleted volume, a
# replaced instance: tests/policies/test_data_at_risk.py); the HCL scan skips their check with
# that reason, so the report calls them NOT EVIDENCED.
PLAN_ONLY = {"GDPR-CHG-1"}


def test_every_control_has_a_spec_mutation() -> None:
    assert {c.id for c in controls()} - PLAN_ONLY - {"GDPR-LIM-2"} <= {
        m.control for m in MUTATIONS}


def test_every_control_is_switched_on_off_and_half_on() -> None:
    """Each control of the catalogue has an on, an off and a half-on state in STATES, or a
    written reason why spec v1 cannot express that state."""
    for c in controls():
        if c.id in PLAN_ONLY:
            continue
        for state in ("on", "off", "half"):
            shown = any(cid == c.id and s == state for cid, s, _, _ in STATES)
            assert shown or (c.id, state) in NO_STATE, (c.id, state)
    names = {m.name for m in MUTATIONS} | set(VARIANTS)
    assert all(spec is None or spec in names for _, _, spec, _ in STATES)


@pytest.mark.parametrize("state", STATES, ids=lambda s: f"{s[0]}:{s[1]}")
def test_a_measure_on_off_and_half_on_shows_its_status(
        reports: dict[str, Any], portal_scan: ScanResult,
        state: tuple[str, str, str | None, str]) -> None:
    control, _, name, expected = state
    if expected == "rejected":
        mutation = next(m for m in MUTATIONS if m.name == name)
        with pytest.raises(SpecError):
            check_text(_mutated_text(mutation), "mutated.yaml", TODAY)
        return
    report = (build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan)
              if name is None else reports[name])
    result = next(c for c in report.controls if c.id == control)
    assert result.status == expected, (name, result.why)
    if expected == NE:  # a half-on state says what is open, in the report's own words
        assert any(e.status == "open" for e in result.evidence) or not result.checks, result.why
    if expected == PASS:
        assert_no_unearned_pass(report)


# What the unmutated example cannot pass, and why (STATES: half).
EXAMPLE_OPEN = {"GDPR-ENC-2": "min_tls 1.2 for special categories",
                "GDPR-ACC-1": "an application credential's secret in the state",
                "GDPR-BAK-2": "COMPLIANCE protects the last 14 days only",
                "GDPR-LIM-1": "backups: retention enforced on the instances",
                "GDPR-LIM-2": "data on volumes: the application's duty"}


def test_the_unmutated_example_passes_every_control_it_can(portal_scan: ScanResult) -> None:
    """The mutations start from PASS (a control without checks is at best NOT EVIDENCED; one
    the spec lowers, or the deployment leaves open, is NOT EVIDENCED)."""
    report = build(BLUEPRINTS / "patient-portal", today=TODAY, result=portal_scan)
    for c in report.controls:
        evidenced = c.checks and c.id not in PLAN_ONLY and c.id not in EXAMPLE_OPEN
        assert c.status == (PASS if evidenced else "NOT EVIDENCED"), c.id
    assert {(m.control, m.level) for m in report.weakened} == {("GDPR-ENC-2", "lowered")}
    enc2 = next(c for c in report.controls if c.id == "GDPR-ENC-2")
    assert "endpoints[0].min_tls (line 65)" in enc2.why
    assert "## Measures lowered in the spec" in to_markdown(report)
    assert "## Measures off in the spec" not in to_markdown(report)


# Where each rejected mutation must be reported (the key it edits).
REJECTED_AT = {"the same SSH key for two persons": "access[2].ssh_key",
               "an instance login for an application": "access[1].ssh_key",
               "no backup site": "backup_site", "backups on the data's own site": "backup_site",
               "volume not encrypted in the guest": "instances[0].volumes[0].encryption",
               "TLS 1.1 allowed": "endpoints[0].min_tls",
               "access without a near end date": "access[0].expires",
               "SSH from the whole internet": "instances[0].ssh_from",
               "public bucket": "buckets[0].public", "single-copy local disk": "instances[0].flavor",
               "a site outside Safespring": "site", "a site in a third country": "site",
               "a bucket without an end date": "buckets[0].retention_days",
               "backups kept longer than the retention": "backup.keep.monthly"}


@pytest.mark.parametrize("mutation", [m for m in MUTATIONS if m.rejected], ids=lambda m: m.name)
def test_rejected_mutation(mutation: SpecMutation) -> None:
    with pytest.raises(SpecError) as err:
        check_text(_mutated_text(mutation), "mutated.yaml", TODAY)
    paths = [format_path(p.path) for p in err.value.problems]
    assert any(p.startswith(REJECTED_AT[mutation.name]) for p in paths), paths


@pytest.mark.parametrize("mutation", [m for m in MUTATIONS if not m.rejected],
                         ids=lambda m: m.name)
def test_accepted_mutation_is_not_a_pass_in_any_format(reports: dict[str, Any],
                                                       mutation: SpecMutation) -> None:
    report = reports[mutation.name]
    result = next(c for c in report.controls if c.id == mutation.control)
    assert result.status == FAIL, (mutation.name, result.status, result.why)
    # The finding names the spec line that leaves the measure off (line 0: the key is absent).
    from_spec = [e for e in result.evidence if e.source == "spec" and e.status == "failed"]
    written = mutation.name != "no review date"
    assert from_spec and all(e.file == f"m{MUTATIONS.index(mutation):02d}.yaml"
                             and (e.line > 0) == written for e in from_spec), result.evidence
    assert report.verdict == FAIL

    doc = json.loads(to_json(report))
    assert next(c for c in doc["controls"] if c["id"] == mutation.control)["status"] == FAIL
    assert any(o["control"] == mutation.control for o in doc["weakened"])
    md = to_markdown(report)
    row = next(line for line in md.splitlines() if line.startswith(f"| [{mutation.control}]"))
    assert "| **FAIL** |" in row, row
    html = to_html(report)
    card = re.search(rf'id="{mutation.control.lower()}">.*?</article>', html, re.S)
    assert card and 'badge s-fail">FAIL<' in card.group(0)
    assert 'badge s-pass">PASS</span><h3>' not in card.group(0)
    # Every provision the control serves is pulled down with it.
    for p in report.provisions:
        if any(cid == mutation.control for cid, _ in p.controls):
            assert p.status == FAIL, p.label


def test_logging_and_backups_off_is_no_pass_anywhere(reports: dict[str, Any]) -> None:
    report = reports[ALL_OFF.name]
    by_id = {c.id: c for c in report.controls}
    assert by_id["GDPR-LOG-1"].status == FAIL and by_id["GDPR-BAK-1"].status == FAIL
    keys = {o.key: o for o in report.weakened}
    assert {"logging.central", "logging.intrusion_detection", "backup"} <= set(keys)
    assert keys["logging.central"].line > 0 and keys["backup"].line == 0  # backup: not written
    doc = json.loads(to_json(report))
    md, html = to_markdown(report), to_html(report)
    for cid in ("GDPR-LOG-1", "GDPR-BAK-1"):
        assert next(c for c in doc["controls"] if c["id"] == cid)["status"] == FAIL
        assert re.search(rf"^\| \[{cid}\]\(#{cid.lower()}\) \| [^|]+ \| \*\*FAIL\*\* \|", md, re.M)
        assert re.search(rf'id="{cid.lower()}">\s*<header><span class="id">{cid}</span> '
                         r'<span class="badge s-fail">FAIL</span>', html)
    assert "## Measures off in the spec" in md and "Measures off in the spec</h2>" in html
    assert "`logging.central` (line " in md and "`backup` (not in the spec)" in md


def test_kill_rate(reports: dict[str, Any]) -> None:
    killed = 0
    for m in MUTATIONS:
        if m.rejected:
            try:
                check_text(_mutated_text(m), "mutated.yaml", TODAY)
            except SpecError:
                killed += 1
        else:
            status = next(c.status for c in reports[m.name].controls if c.id == m.control)
            killed += status != PASS
    print(f"\nspec mutation kill rate: {killed}/{len(MUTATIONS)}")
    assert killed == len(MUTATIONS)
