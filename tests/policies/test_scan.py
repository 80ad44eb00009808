"""The in-process scan: results tied to the catalogue, skips, what cannot be told (UNKNOWN), files
that do not parse, formats, blueprints."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from generator.api import scan_plan_data
from generator.scan import ScanResult, baseline, scan, to_json, to_junit, to_sarif, to_text

from ..conftest import ROOT, run_cli
from .conftest import FIXTURES


def _status(result: ScanResult, check_id: str) -> dict[str, str]:
    return {f.resource: f.status for f in result.findings if f.check_id == check_id}


def test_findings_carry_controls_and_articles(fixture_scan: ScanResult) -> None:
    finding = next(f for f in fixture_scan.findings if f.check_id == "CKV_GDPR_10")
    assert finding.controls == ("GDPR-LIM-1",)
    assert finding.articles == ("5(1)(e)",)
    assert finding.severity == "MEDIUM"


def test_skip_needs_a_reason(scans: dict[str, ScanResult]) -> None:
    result = scans["skips"]
    assert _status(result, "CKV_GDPR_6") == {
        "openstack_networking_secgroup_v2.skip_with_reason": "skipped",
        "openstack_networking_secgroup_v2.skip_without_reason": "failed",
    }
    skipped = next(f for f in result.findings if f.resource.endswith("skip_with_reason")
                   and f.check_id == "CKV_GDPR_6")
    assert skipped.skip_reason == "This group only exists to show a skip with a written reason."


def test_baseline_skips_have_reasons() -> None:
    assert baseline()
    assert all(len(reason) > 20 for reason in baseline().values())


def test_unrendered_modules_are_unknown_and_say_what_resolves_them(scans: dict[str, ScanResult]) -> None:
    # Checkov does not resolve inputs of modules that reference each other: remote_group_id
    # stays the text "var.peer" and must not count as a named remote, nor as a missing one.
    result = scans["module_cycle"]
    statuses = _status(result, "CKV_GDPR_3")
    assert sorted(s.split(".openstack")[0] for s in statuses) == ["module.a", "module.b"]
    assert set(statuses.values()) == {"unknown"}
    assert all("scan DIR --plan" in "; ".join(f.details) for f in result.unknown)


def test_unknown_is_shown_not_failed(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('provider "openstack" {\n  cloud = "partner-eu"\n}\n')
    run = run_cli("scan", str(tmp_path))
    assert run.code == 0, run.out + run.err
    assert "UNKNOWN CKV_GDPR_11 openstack.default  (main.tf:1)" in run.out
    assert "the site comes from the clouds.yaml entry 'partner-eu'" in run.out
    assert run.out.rstrip().splitlines()[-1].startswith("0 failed, 2 unknown, ")
    sarif = json.loads(run_cli("scan", str(tmp_path), "--format", "sarif").out)
    assert {(r["ruleId"], r["level"]) for r in sarif["runs"][0]["results"]} == {
        ("CKV_GDPR_11", "note"), ("CKV_GDPR_28", "note")}


def test_a_file_checkov_cannot_parse_fails_the_scan(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('resource "openstack_networking_secgroup_v2" "x" {\n  name =\n}\n')
    result = scan(tmp_path)
    assert [(f.check_id, f.file, f.status) for f in result.failed] == [("PARSE", "main.tf", "failed")]
    assert not result.ok


def test_a_module_whose_code_is_not_on_disk_is_unknown_until_init_fetches_it(tmp_path: Path) -> None:
    """Checkov scans only the modules on disk and says nothing of the others: the scan must, or
    a root made of remote modules passes with nothing judged (Safespring's community examples)."""
    (tmp_path / "main.tf").write_text(
        'module "cluster" {\n  source  = "example/cluster/openstack"\n  version = "1.0.0"\n}\n\n'
        'module "gone" {\n  source = "./modules/gone"\n}\n')
    found = {f.resource: f for f in scan(tmp_path).findings if f.check_id == "MODULE"}
    assert {r: f.status for r, f in found.items()} == {"module.cluster": "unknown",
                                                       "module.gone": "unknown"}
    assert "run `terraform init` in the scanned directory" in found["module.cluster"].details[0]
    assert "./modules/gone is not a directory next to main.tf" in found["module.gone"].details[0]
    # What `terraform init` leaves: the module's code and modules.json naming it.
    fetched = tmp_path / ".terraform" / "modules"
    (fetched / "cluster").mkdir(parents=True)
    (fetched / "cluster" / "main.tf").write_text('variable "n" {\n  default = 1\n}\n')
    (fetched / "modules.json").write_text(json.dumps({"Modules": [
        {"Key": "", "Source": "", "Dir": "."},
        {"Key": "cluster", "Source": "registry.terraform.io/example/cluster/openstack",
         "Version": "1.0.0", "Dir": ".terraform/modules/cluster"}]}))
    after = [f.resource for f in scan(tmp_path).findings if f.check_id == "MODULE"]
    assert after == ["module.gone"]


def test_for_each_over_map_of_objects_is_expanded(scans: dict[str, ScanResult]) -> None:
    result = scans["module_expanded"]
    assert _status(result, "CKV_GDPR_2") == {
        'module.sg.openstack_networking_secgroup_rule_v2.this["https-world"]': "passed",
        'module.sg.openstack_networking_secgroup_rule_v2.this["ssh-world"]': "failed",
    }


def test_output_formats(fixture_scan: ScanResult) -> None:
    doc = json.loads(to_json(fixture_scan))
    assert doc["summary"]["failed"] == fixture_scan.summary.failed == len(fixture_scan.failed)
    assert {"check_id", "status", "resource", "file", "line", "controls", "articles",
            "skip_reason"} <= set(doc["findings"][0])

    sarif = json.loads(to_sarif(fixture_scan))
    run = sarif["runs"][0]
    assert len(run["results"]) == fixture_scan.summary.failed + fixture_scan.summary.unknown
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "CKV_GDPR_1")
    assert rule["helpUri"].endswith("#gdpr-enc-1")
    assert rule["properties"]["severity"] == "HIGH"

    junit = ET.fromstring(to_junit(fixture_scan))
    assert int(junit.get("failures")) == fixture_scan.summary.failed
    assert len(junit.findall(".//testcase")) == len(fixture_scan.findings)

    text = to_text(fixture_scan)
    assert "FAIL CKV_GDPR_1 openstack_blockstorage_volume_v3.fail " in text
    assert "UNKNOWN CKV_GDPR_1 openstack_blockstorage_volume_v3.unknown_not_attached " in text
    assert "     fix: " in text  # each failure says how to fix it (data/checks.yaml)
    assert text.rstrip().endswith(f"{fixture_scan.summary.skipped} skipped")


@pytest.mark.parametrize("blueprint", ["minimal", "patient-portal"])
def test_committed_blueprints_pass_the_pack(blueprint: str) -> None:
    result = scan(ROOT / "blueprints" / blueprint)
    failed = [f"{f.check_id} {f.resource}: {'; '.join(f.details)}" for f in result.failed if f.custom]
    assert failed == []
    ran = {f.check_id for f in result.findings if f.custom}
    assert {"CKV_GDPR_2", "CKV_GDPR_6", "CKV_GDPR_11", "CKV_GDPR_12"} <= ran


@pytest.mark.parametrize("blueprint", ["minimal", "patient-portal"])
def test_committed_blueprints_pass_builtin_checks(blueprint: str) -> None:
    result = scan(ROOT / "blueprints" / blueprint)
    assert [f"{f.check_id} {f.resource}" for f in result.failed if not f.custom] == []


# ---- plan mode ------------------------------------------------------------------------------

BLUEPRINT_VARIABLES = {"key_pair": "offline-test"}  # as tests/test_terraform_blueprints.py plans them


@pytest.mark.parametrize("blueprint", ["minimal", "patient-portal"])
def test_blueprints_scan_clean_and_alike_in_both_modes(planned: Callable[..., dict], blueprint: str) -> None:
    root = ROOT / "blueprints" / blueprint
    hcl = scan(root)
    plan = scan_plan_data(planned(root, BLUEPRINT_VARIABLES), root)
    bootstrap = scan_plan_data(planned(root / "bootstrap", BLUEPRINT_VARIABLES), root / "bootstrap")
    for result in (plan, bootstrap):
        assert result.mode == "plan"
        assert [f"{f.check_id} {f.resource}: {'; '.join(f.details)}" for f in result.failed] == []
    # The HCL scan sees the blueprint and its bootstrap/ root at once; each plan one of them.
    # CKV_GDPR_23 judges what a plan deletes: skipped in HCL mode (no plan), passed on these
    # plans (they only create); the same resources either way.
    both = {(f.check_id, f.resource, "skipped" if f.check_id == "CKV_GDPR_23" else f.status)
            for r in (plan, bootstrap) for f in r.findings if f.custom}
    assert {(f.check_id, f.resource, f.status) for f in hcl.findings if f.custom} == both
    assert {f.status for r in (plan, bootstrap) for f in r.findings if f.check_id == "CKV_GDPR_23"} \
        == {"passed"}


def test_plan_findings_keep_the_blueprints_skip_reasons(planned: Callable[..., dict]) -> None:
    root = ROOT / "blueprints" / "patient-portal"
    result = scan_plan_data(planned(root, BLUEPRINT_VARIABLES), root)
    skipped = {(f.check_id, f.resource, f.file) for f in result.findings if f.status == "skipped"}
    assert ("CKV_GDPR_10", "module.backup_bucket.aws_s3_bucket_lifecycle_configuration.this",
            "modules/backup-bucket/main.tf") in skipped
    assert all(f.skip_reason for f in result.findings if f.status == "skipped")


def test_scan_of_a_plan_json_next_to_its_tf_files(planned: Callable[..., dict], tmp_path: Path) -> None:
    copy = tmp_path / "minimal"
    shutil.copytree(ROOT / "blueprints" / "minimal", copy)
    (copy / "plan.json").write_text(json.dumps(planned(ROOT / "blueprints" / "minimal", BLUEPRINT_VARIABLES)))
    run = run_cli("scan", str(copy / "plan.json"), "--format", "json")
    assert run.code == 0, run.out + run.err
    doc = json.loads(run.out)
    assert doc["mode"] == "plan" and doc["summary"]["failed"] == 0
    files = {f["file"] for f in doc["findings"]}
    assert "providers.tf" in files and not [f for f in files if f.endswith(".json")]


def test_scan_plan_offline_from_the_command_line() -> None:
    """`scan DIR --plan --offline` on a root that is not ours (and pins the OpenStack provider to
    1.x): Terraform plans it against the schema-only provider, and the finding names the
    problem where it is written."""
    fixture = FIXTURES / "ckv_gdpr_6"
    run = run_cli("scan", str(fixture), "--plan", "--offline")
    assert run.code == 1, run.err
    assert "FAIL CKV_GDPR_6 openstack_networking_secgroup_v2.fail  (main.tf:7)" in run.out
    assert "OpenStack's default allow-all egress rules are kept" in run.out
    assert not (fixture / ".terraform").exists()


def test_scan_refuses_what_it_cannot_scan(tmp_path: Path) -> None:
    not_a_plan = tmp_path / "state.json"
    not_a_plan.write_text("{}")
    run = run_cli("scan", str(not_a_plan))
    assert run.code == 2 and "is not a Terraform plan" in run.err
    run = run_cli("scan", str(FIXTURES / "ckv_gdpr_6"), "--offline")
    assert run.code == 2 and "--plan" in run.err


def test_check_scans_the_offline_plan(tmp_path: Path) -> None:
    run = run_cli("check", "blueprints/minimal.yaml", "--report-dir", str(tmp_path / "report"),
                  "--today", "2026-11-27", cwd=ROOT)
    assert run.code == 0, run.err
    assert "] validate + plan (offline)" in run.err
    assert "] scan (plan)" in run.err and "0 failed" in run.err
