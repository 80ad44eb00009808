"""Offline rehearsal of day 2: a generated blueprint is applied offline (the schema-only
OpenStack provider records the planned values into DIR/terraform.tfstate), the spec is changed,
`update` regenerates it, and Terraform core plans against that state as it would against
Safespring. `plan` and the plan scan flag exactly the changes that delete or replace data, and
`apply` refuses those without --allow-replace."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import FIXTURES, ROOT, run_cli

SPEC = FIXTURES / "specs" / "rehearsal.yaml"
EARLIER = FIXTURES / "earlier"
KEY = ("-var", "key_pair=rehearsal")
VOLUME = "module.volume_app_data.openstack_blockstorage_volume_v3.this"
INSTANCE = "module.instances_app.openstack_compute_instance_v2.this"


def cli(*args: str) -> str:
    run = run_cli(*args)
    assert run.code == 0, f"{args}: {run.code}\n{run.err[-3000:]}\n{run.out[-3000:]}"
    return run.out


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rehearsal spec's blueprint, generated and applied offline."""
    work = tmp_path_factory.mktemp("rehearsal")
    cli("generate", str(SPEC), "-o", str(work / "bp"))
    cli("apply", str(work / "bp"), "--offline", "--auto-approve", *KEY)
    assert (work / "bp" / "terraform.tfstate").is_file()
    return work / "bp"


def changed(applied: Path, tmp_path: Path, edit: tuple[str, str]) -> tuple[Path, str]:
    """A copy of the applied blueprint (state included), its spec edited and `update` run."""
    bp = tmp_path / "bp"
    shutil.copytree(applied, bp)
    spec = tmp_path / "spec.yaml"
    text = SPEC.read_text("utf-8")
    assert edit[0] in text
    spec.write_text(text.replace(edit[0], edit[1], 1), "utf-8")
    return bp, cli("update", str(bp), str(spec))


def at_risk(bp: Path) -> tuple[list[str], set[str]]:
    """What `plan` lists under DATA AT RISK, and the CKV_GDPR_23 failures of the plan's scan."""
    out = cli("plan", str(bp), "--offline", *KEY)
    section = out.split("DATA AT RISK", 1)[1] if "DATA AT RISK" in out else ""
    listed = [line.split()[1] for line in section.splitlines()
              if line.startswith(("  delete ", "  replace "))]
    scan = run_cli("scan", str(bp), "--plan", "--offline", *KEY, "--format", "json")
    assert scan.code in (0, 1), scan.err
    findings = json.loads(scan.out)["findings"]
    failed = {f["resource"] for f in findings if f["check_id"] == "CKV_GDPR_23" and f["status"] == "failed"}
    return listed, failed


def test_log_retention_changes_no_data(applied: Path, tmp_path: Path) -> None:
    bp, update = changed(applied, tmp_path, ("retention_days: 180", "retention_days: 90"))
    # The guest configuration changed: running instances keep theirs, and update says so.
    assert "reprovision: group log-collector" in update
    assert at_risk(bp) == ([], set())
    cli("apply", str(bp), "--offline", "--auto-approve", *KEY)


def test_a_renamed_volume_is_flagged_and_refused(applied: Path, tmp_path: Path) -> None:
    bp, _ = changed(applied, tmp_path, ("- name: data", "- name: files"))
    expected = [f"{VOLUME}[0]", f"{VOLUME}[1]"]
    listed, failed = at_risk(bp)
    assert listed == expected and failed == set(expected)
    state = (bp / "terraform.tfstate").read_text()
    refused = run_cli("apply", str(bp), "--offline", "--auto-approve", *KEY)
    assert refused.code == 4 and all(a in refused.err for a in expected)
    assert (bp / "terraform.tfstate").read_text() == state


def test_a_lower_count_is_flagged_and_refused_unless_allowed(applied: Path, tmp_path: Path) -> None:
    bp, _ = changed(applied, tmp_path, ("count: 2", "count: 1"))
    expected = [f"{INSTANCE}[1]", f"{VOLUME}[1]"]
    listed, failed = at_risk(bp)
    assert listed == expected and failed == set(expected)
    assert run_cli("apply", str(bp), "--offline", "--auto-approve", *KEY).code == 4
    # Allowing one of the two is not enough.
    partly = run_cli("apply", str(bp), "--offline", "--auto-approve", *KEY, "--allow-replace", expected[0])
    assert partly.code == 4 and expected[1] in partly.err and expected[0] not in partly.err.split("\n", 1)[1]
    out = cli("apply", str(bp), "--offline", "--auto-approve", *KEY,
              *[a for address in expected for a in ("--allow-replace", address)])
    assert "ALLOWED DATA LOSS" in out
    assert at_risk(bp) == ([], set())  # applied: the next plan has nothing left to delete


@pytest.mark.parametrize("snapshot", sorted(p.name for p in EARLIER.iterdir() if p.is_dir()))
def test_an_earlier_generators_blueprint_updates_without_loss(snapshot: str, tmp_path: Path) -> None:
    bp = tmp_path / "minimal"
    shutil.copytree(EARLIER / snapshot, bp)
    cli("apply", str(bp), "--offline", "--auto-approve", *KEY)
    cli("update", str(bp), str(ROOT / "blueprints" / "minimal.yaml"))
    assert at_risk(bp) == ([], set())
    # moved.tf carries the old addresses over: the upgrade deletes nothing at all.
    planned = cli("plan", str(bp), "--offline", *KEY)
    assert not [line for line in planned.splitlines() if line.startswith("delete")], planned
    cli("apply", str(bp), "--offline", "--auto-approve", *KEY)
