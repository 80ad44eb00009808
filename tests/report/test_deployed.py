"""Deployed versus spec, rehearsed offline: a blueprint is applied (the schema-only OpenStack
provider records the planned values in DIR/terraform.tfstate), its spec is changed (journal
365 -> 90 days, a person added), `update` regenerates it and it is applied again. The instances
keep the guest configuration they were created with (user_data and ssb_guest_config are
ignored), and the report says so, from the state and from a plan, listing what differs; the
annex of the spec alone would say "90 days" for instances that keep 365.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from generator import api
from generator.report import build, to_html, to_markdown
from tests.conftest import TODAY, run_cli

SPEC = """\
version: 1
name: running-check
review_by: 2027-06-30
data:
  personal: false
site: sto1
access:
  - name: eva.nord
    kind: person
    role: admin
    expires: 2027-06-30
    ssh_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFgkVKhu7KnL4TQVyJo/Mc9D98TiKJLxwETjmwr61Man eva
instances:
  - name: app
    flavor: b2.c1r2
    image: debian-12
    ssh_from: [192.0.2.0/24]
logging:
  central: false
  retention_days: 365
  intrusion_detection: false
state:
  backend: local
"""
ADDED = """\
  - name: leo.fors
    kind: person
    role: member
    expires: 2027-03-31
    ssh_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJiA4C7lJxPTniYoj3/3c7fdCxAJHTS8r4ShSr024oA8 leo
instances:
"""
APPLY_TIMEOUT = 600  # hang guard: an offline apply of one instance takes well under a minute


def _git(directory: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.se", *args],
                   cwd=directory, check=True, capture_output=True)


def _cli(*args: str) -> str:
    run = run_cli(*args, timeout=APPLY_TIMEOUT)
    assert run.code == 0, f"{args}: {run.code}\n{run.err[-3000:]}\n{run.out[-2000:]}"
    return run.out


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The repository after: generate + commit + apply (365 days), then edit + update +
    commit + apply again (90 days, one person more), and a plan made against that state."""
    repo = tmp_path_factory.mktemp("running")
    _git(repo, "init", "-q")
    spec = repo / "running-check.yaml"
    spec.write_text(SPEC, "utf-8")
    blueprint = repo / "running-check"
    api.generate(spec, blueprint, on=TODAY)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "first")
    _cli("apply", str(blueprint), "--offline", "--auto-approve")
    first = blueprint / "terraform.tfstate"
    shutil.copy(first, repo / "state-first.json")

    spec.write_text(SPEC.replace("retention_days: 365", "retention_days: 90")
                    .replace("instances:\n", ADDED), "utf-8")
    api.update(blueprint, spec, on=TODAY)
    _git(repo, "add", "-A")  # the state stays out: the blueprint's .gitignore
    _git(repo, "commit", "-q", "-m", "journal 90 days")
    _cli("apply", str(blueprint), "--offline", "--auto-approve")
    _cli("plan", str(blueprint), "--offline", "-o", str(repo / "plan.json"))
    return {"repo": repo, "blueprint": blueprint, "spec": spec, "plan": repo / "plan.json"}


def test_the_state_says_which_groups_wait_and_what_differs(applied: dict[str, Path]) -> None:
    state = json.loads((applied["blueprint"] / "terraform.tfstate").read_text())
    report = build(applied["blueprint"], applied["spec"], today=TODAY)
    running = report.deployed
    assert running is not None and running.source == "terraform.tfstate"
    (app,) = running.groups
    assert (app.name, app.instances, app.waiting, app.unknown) == ("app", 1, 1, 0)
    assert "journal kept at most: 365 days running, 90 days in the spec" in app.differences
    assert any(d.startswith("personal logins: eva.nord until 2027-06-30 running, eva.nord "
                            "until 2027-06-30, leo.fors until 2027-03-31 in the spec")
               for d in app.differences), app.differences
    # The annex describes the spec (90 days) and then says what runs.
    annex = {s.title: s.paragraphs for s in report.annex}
    assert any("at most 90 days" in p for p in annex["Logging and intrusion detection"])
    assert any("journal kept at most: 365 days running" in p for p in annex["What runs"])
    assert any("app: 1 of 1 instances wait for reprovisioning" in w for w in report.verdict_why)
    for text in (to_markdown(report), to_html(report)):
        assert "What runs" in text and "365 days running" in text
    # What the state holds: the hash the instance was created with, not the blueprint's.
    metadata = next(r for r in state["resources"] if r["type"] == "openstack_compute_instance_v2"
                    )["instances"][0]["attributes"]["metadata"]
    assert metadata["ssb_guest_config"] != __import__("hashlib").sha256(
        (applied["blueprint"] / "cloud-init" / "app.yaml").read_bytes()).hexdigest()


def test_a_plan_says_the_same(applied: dict[str, Path]) -> None:
    elsewhere = applied["repo"] / "copy"
    shutil.copytree(applied["blueprint"], elsewhere)
    (elsewhere / "terraform.tfstate").unlink()
    report = build(elsewhere, applied["spec"], today=TODAY, plan=applied["plan"])
    assert report.deployed is not None and report.deployed.source == "plan plan.json"
    assert report.deployed.groups[0].waiting == 1


def test_a_fresh_instance_runs_the_spec(applied: dict[str, Path], tmp_path: Path) -> None:
    """The first apply's state, read against the blueprint it was made from, waits for
    nothing."""
    first = tmp_path / "first"
    _git(applied["repo"], "worktree", "add", "-q", str(first), "HEAD~1")
    shutil.copy(applied["repo"] / "state-first.json", first / "running-check" / "terraform.tfstate")
    report = build(first / "running-check", first / "running-check.yaml", today=TODAY)
    assert report.deployed is not None and not report.deployed.waiting
    assert "every instance runs the guest configuration of the spec" in report.deployed.note


def test_without_state_or_plan_the_report_describes_the_spec(applied: dict[str, Path],
                                                             tmp_path: Path) -> None:
    bare = tmp_path / "running-check"
    shutil.copytree(applied["blueprint"], bare)
    (bare / "terraform.tfstate").unlink()
    report = build(bare, applied["spec"], today=TODAY)
    assert report.deployed is not None and report.deployed.source is None
    assert "This report describes the spec and the blueprint" in report.deployed.note
    assert report.deployed.note in report.verdict_why
    assert any(s.title == "What runs" for s in report.annex)
