"""CKV_GDPR_23 and `apply`'s gate on real plans: a small deployment is applied offline (the
schema-only OpenStack provider records it into a local state), then changed and planned by real
Terraform, which decides delete, replace or update in place."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from generator import api, record
from generator.evidence.change import HCL_REASON
from generator.scan import ScanResult, scan, to_sarif

from ..conftest import run_cli

ID = "CKV_GDPR_23"
VOLUME = "openstack_blockstorage_volume_v3.records"
VERSIONS = """terraform {
  required_providers {
    openstack = {
      source = "terraform-provider-openstack/openstack"
    }
  }
}

variable "note" {
  type    = string
  default = ""
}
"""
INSTANCE = """variable "user_data" {
  type    = string
  default = "#cloud-config\\n"
}

resource "openstack_compute_instance_v2" "app" {
  name        = "app"
  flavor_name = "b2.c1r2"
  user_data   = var.user_data
  metadata = {
    ssb_classification = "personal"
  }
  network {
    name = "public"
  }
}
"""


def volume(name: str, label: str, classification: str) -> str:
    return (f'resource "openstack_blockstorage_volume_v3" "{name}" {{\n  name = "{label}"\n  size = 10\n'
            f'  metadata = {{\n    ssb_classification = "{classification}"\n  }}\n}}\n')


def write(directory: Path, *, records: str | None = "records") -> None:
    """The deployment: an instance, a personal-data volume (label `records`, or none) and a
    non-personal one."""
    text = INSTANCE + volume("scratch", "scratch", "non-personal")
    if records is not None:
        text += volume("records", records, "personal")
    (directory / "main.tf").write_text(text)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The deployment, applied offline through the CLI: a terraform.tfstate next to the .tf."""
    directory = tmp_path_factory.mktemp("deployed") / "app"
    directory.mkdir()
    (directory / "versions.tf").write_text(VERSIONS)
    write(directory)
    run = run_cli("apply", str(directory), "--offline", "--auto-approve")
    assert run.code == 0, run.err + run.out
    assert (directory / "terraform.tfstate").is_file()
    return directory


@pytest.fixture
def copy(deployed: Path, tmp_path: Path) -> Path:
    target = tmp_path / "app"
    shutil.copytree(deployed, target)
    return target


def plan_scan(directory: Path, variables: dict[str, str] | None = None) -> tuple[Path, ScanResult]:
    """Plan the directory against its state offline; scan the plan JSON written next to it."""
    checks, data = api.plan_data(directory, offline=True, variables=variables)
    assert checks.ok, [s.output[-2000:] for s in checks.steps if not s.ok]
    plan_file = directory / "plan.json"
    plan_file.write_text(json.dumps(data))
    return plan_file, scan(plan_file)


def at_risk(result: ScanResult) -> dict[str, str]:
    return {f.resource: " ".join(f.details) for f in result.findings
            if f.check_id == ID and f.status == "failed"}


def test_an_update_in_place_raises_no_finding(copy: Path) -> None:
    write(copy, records="records-renamed-label")  # the volume's name changes in place
    _, result = plan_scan(copy)
    assert at_risk(result) == {}
    passed = {f.resource for f in result.findings if f.check_id == ID and f.status == "passed"}
    assert passed == {"openstack_blockstorage_volume_v3.records", "openstack_blockstorage_volume_v3.scratch",
                      "openstack_compute_instance_v2.app"}


def test_a_deleted_volume_fails_the_scan(copy: Path) -> None:
    write(copy, records=None)  # the block is gone: Terraform deletes the volume
    plan_file, result = plan_scan(copy)
    risk = at_risk(result)
    assert list(risk) == ["openstack_blockstorage_volume_v3.records"]
    assert "deletes a volume holding personal data" in risk["openstack_blockstorage_volume_v3.records"]
    finding = next(f for f in result.failed if f.check_id == ID)
    assert finding.articles == ("5(1)(f)", "32(1)(b)", "32(1)(c)")
    assert "openstack_blockstorage_volume_v3.records" in to_sarif(result)
    # The user's command: a failed scan naming the resource.
    run = run_cli("scan", str(plan_file))
    assert run.code == 1
    assert f"FAIL {ID} openstack_blockstorage_volume_v3.records" in run.out


def test_a_changed_user_data_replacing_the_instance_fails_the_scan(copy: Path) -> None:
    _, result = plan_scan(copy, {"user_data": "#cloud-config\nruncmd: [true]\n"})
    risk = at_risk(result)
    assert list(risk) == ["openstack_compute_instance_v2.app"]
    assert "forced by a change of user_data" in risk["openstack_compute_instance_v2.app"]
    assert "boot volume is deleted" in risk["openstack_compute_instance_v2.app"]


def test_a_skip_comment_does_not_silence_data_at_risk(copy: Path) -> None:
    """`# checkov:skip=CKV_GDPR_23` on the instance: `scan DIR --plan` (which reads the comment)
    and `scan PLAN.json` (which cannot) both FAIL it, as apply refuses it; HCL mode keeps its
    own reason."""
    main = copy / "main.tf"
    text = main.read_text()
    anchor = 'resource "openstack_compute_instance_v2" "app" {\n'
    main.write_text(text.replace(anchor, anchor + f"  # checkov:skip={ID}:we know\n"))
    plan_file, _ = plan_scan(copy, {"user_data": "#cloud-config\nruncmd: [true]\n"})
    both = {}
    for mode, args in (("dir", (str(copy), "--plan", "--offline", "-var",
                                "user_data=#cloud-config\nruncmd: [true]\n")),
                       ("json", (str(plan_file),))):
        run = run_cli("scan", *args, "--format", "json")
        assert run.code == 1, (mode, run.err[-2000:])
        findings = json.loads(run.out)["findings"]
        both[mode] = {(f["resource"], f["status"]) for f in findings if f["check_id"] == ID
                      and f["resource"] == "openstack_compute_instance_v2.app"}
    assert both["dir"] == both["json"] == {("openstack_compute_instance_v2.app", "failed")}
    hcl = [f for f in scan(copy).findings if f.check_id == ID]
    assert {(f.status, f.skip_reason) for f in hcl} == {("skipped", HCL_REASON)}


def test_hcl_mode_has_no_plan_to_judge(deployed: Path) -> None:
    found = [f for f in scan(deployed).findings if f.check_id == ID]
    assert found and {(f.status, f.skip_reason) for f in found} == {("skipped", HCL_REASON)}


def test_plan_shows_and_apply_refuses_data_at_risk_until_allowed(copy: Path) -> None:
    write(copy, records=None)
    planned = run_cli("plan", str(copy), "--offline", "-var", "note=kept as given")
    assert planned.code == 0, planned.err
    assert "DATA AT RISK" in planned.out
    assert "delete  openstack_blockstorage_volume_v3.records" in planned.out
    # The command it suggests keeps the user's options: pasted, it rehearses offline again.
    assert (f"safespring-blueprints apply {copy} --offline -var 'note=kept as given' "
            "--allow-replace openstack_blockstorage_volume_v3.records") in planned.out
    state_before = (copy / "terraform.tfstate").read_text()

    refused = run_cli("apply", str(copy), "--offline", "--auto-approve", "-var", "note=x")
    assert refused.code == 4
    assert "apply refused" in refused.err and "openstack_blockstorage_volume_v3.records" in refused.err
    assert (f"safespring-blueprints apply {copy} --offline -var note=x --allow-replace "
            "openstack_blockstorage_volume_v3.records") in refused.err
    assert (copy / "terraform.tfstate").read_text() == state_before
    assert not (copy / "allowed-replacements.jsonl").exists()

    allowed = run_cli("apply", str(copy), "--offline", "--auto-approve",
                      "--allow-replace", "openstack_blockstorage_volume_v3.records",
                      env={"GITHUB_ACTOR": "anna"})
    assert allowed.code == 0, allowed.err
    assert "ALLOWED DATA LOSS" in allowed.out and "outcome: applied (exit 0)" in allowed.out
    kept = copy / "allowed-replacements.jsonl"
    entry, outcome = (json.loads(line) for line in kept.read_text().splitlines())
    assert entry["actor"] == {"name": "anna", "source": "$GITHUB_ACTOR", "verified": False}
    assert entry["kind"] == "allowed" and entry["when"] and len(entry["plan_sha256"]) == 64
    assert [a["address"] for a in entry["allowed"]] == ["openstack_blockstorage_volume_v3.records"]
    assert entry["allowed"][0]["holds"] == "personal"
    assert (outcome["kind"], outcome["allowance"], outcome["result"]) == ("outcome", 1, "applied")
    assert kept.stat().st_mode & 0o777 == 0o600
    assert record.verify(kept.read_bytes()).ok
    state = json.loads((copy / "terraform.tfstate").read_text())
    assert "records" not in {r["name"] for r in state["resources"]}


def test_ci_apply_gate_refuses_the_reviewed_plan_until_the_run_allows(copy: Path) -> None:
    """The CI templates' apply: `show-plan --same-as` on the saved plan is the last step before
    `terraform apply PLAN`; it refuses a plan that deletes data the run does not allow, and keeps
    the record as the artifact the templates upload."""
    from generator.terraform.offline import prepare

    write(copy, records=None)
    toolchain = prepare()
    env = toolchain.environ()
    for args in (["init", "-input=false"], ["plan", "-refresh=false", "-input=false", "-out=plan.tfplan"]):
        done = subprocess.run([str(toolchain.terraform), f"-chdir={copy}", *args], env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    cli_env = {"TF_CLI_CONFIG_FILE": env["TF_CLI_CONFIG_FILE"], "SAFESPRING_BLUEPRINTS_ALLOW_REPLACE": None}
    review = run_cli("show-plan", str(copy), str(copy / "plan.tfplan"), "-o", str(copy / "plan.json"),
                     env=cli_env)
    assert review.code == 0 and "DATA AT RISK" in review.err
    gate = ["show-plan", str(copy), str(copy / "plan.tfplan"), "-o", str(copy / "now.json"),
            "--same-as", str(copy / "plan.json")]
    refused = run_cli(*gate, env=cli_env)
    assert refused.code == 4 and "openstack_blockstorage_volume_v3.records" in refused.err
    assert (copy / "allowed-replacements.jsonl").read_text() == ""
    allowed = run_cli(*gate, env={**cli_env, "GITHUB_ACTOR": None, "GITLAB_USER_LOGIN": "erik",
                                  "SAFESPRING_BLUEPRINTS_ALLOW_REPLACE": VOLUME})
    assert allowed.code == 0, allowed.err
    kept = copy / "allowed-replacements.jsonl"
    entry = json.loads(kept.read_text())
    assert entry["actor"] == {"name": "erik", "source": "$GITLAB_USER_LOGIN", "verified": False}
    assert [a["address"] for a in entry["allowed"]] == ["openstack_blockstorage_volume_v3.records"]
    # The reviewed document names the plan: the digest `apply` would record for the same plan.
    assert entry["plan_sha256"] == record.plan_digest(json.loads((copy / "now.json").read_text()))
    assert "outcome" in record.verify(kept.read_bytes()).notes[-1]
    # The templates' step after `terraform apply`: how it ended, chained to the allowance.
    ended = run_cli("record-outcome", str(copy), "--exit-code", "1", env=cli_env)
    assert ended.code == 0, ended.err
    outcome = json.loads(kept.read_text().splitlines()[-1])
    assert (outcome["allowance"], outcome["result"], outcome["exit_code"]) == (1, "failed", 1)
    assert record.verify(kept.read_bytes()).notes == []
    nothing = run_cli("record-outcome", str(copy), "--exit-code", "0", env=cli_env)
    assert nothing.code == 0 and "nothing recorded" in nothing.err
    assert len(kept.read_text().splitlines()) == 2
    # Nobody to name: the gate refuses rather than record an allowance by nobody.
    nobody = {**cli_env, "SAFESPRING_BLUEPRINTS_ALLOW_REPLACE": VOLUME, **{
        name: None for name in record.ACTOR_VARIABLES}}
    refused = run_cli(*gate, env=nobody)
    assert refused.code == 4 and "give --actor NAME" in refused.err
    assert len(kept.read_text().splitlines()) == 2
    named = run_cli(*gate, "--actor", "dpo@example.se", env=nobody)
    assert named.code == 0, named.err
    assert json.loads(kept.read_text().splitlines()[-1])["actor"]["source"] == "--actor"


def test_an_allowance_by_nobody_is_refused(copy: Path) -> None:
    """No $GITHUB_ACTOR, $USER ... (or all blank) and no --actor: the record could not say who
    allowed the loss, so nothing is applied or recorded; --actor names them."""
    write(copy, records=None)
    state_before = (copy / "terraform.tfstate").read_text()
    nobody = {name: None for name in record.ACTOR_VARIABLES} | {"GITHUB_ACTOR": " "}
    args = ["apply", str(copy), "--offline", "--auto-approve", "--allow-replace", VOLUME]
    refused = run_cli(*args, env=nobody)
    assert refused.code == 4 and "give --actor NAME" in refused.err, refused.err
    assert (copy / "terraform.tfstate").read_text() == state_before
    assert not (copy / "allowed-replacements.jsonl").exists()
    blank = run_cli(*args, "--actor", "  ", env=nobody)
    assert blank.code == 2 and "--actor is empty" in blank.err
    named = run_cli(*args, "--actor", "Anna Svensson", env=nobody)
    assert named.code == 0, named.err
    entry = json.loads((copy / "allowed-replacements.jsonl").read_text().splitlines()[0])
    assert entry["actor"] == {"name": "Anna Svensson", "source": "--actor", "verified": False}


def test_replace_asks_for_one_instance_and_records_it(copy: Path) -> None:
    """The README's reprovisioning step: `apply --replace ADDRESS` has Terraform replace that
    instance (user_data changes alone never do) and counts as allowing it."""
    instance = "openstack_compute_instance_v2.app"
    done = run_cli("apply", str(copy), "--offline", "--auto-approve", "--replace", instance,
                   env={"GITHUB_ACTOR": None, "GITLAB_USER_LOGIN": None, "USER": "ops"})
    assert done.code == 0, done.err
    entry = json.loads((copy / "allowed-replacements.jsonl").read_text().splitlines()[0])
    assert entry["actor"] == {"name": "ops", "source": "$USER", "verified": False}
    assert [(a["address"], a["action"], a["reason"]) for a in entry["allowed"]] == [
        (instance, "replace", "-replace asked for it")]


def bucket_state(name: str, tags: dict[str, str]) -> dict:
    return {"mode": "managed", "type": "aws_s3_bucket", "name": name,
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
            "instances": [{"schema_version": 0, "sensitive_attributes": [], "attributes": {
                "id": f"app-{name}", "bucket": f"app-{name}", "tags": tags, "tags_all": tags,
                "force_destroy": False}}]}


def test_deleted_backup_and_state_buckets_fail_the_scan(tmp_path: Path) -> None:
    """The real aws provider plans the deletion of two buckets a state holds (written here: the
    buckets cannot be created offline) and the scan names each with its role."""
    from generator.terraform.offline import prepare

    directory = tmp_path / "buckets"
    shutil.copytree(Path(__file__).parent / "data_at_risk_buckets", directory)
    (directory / "terraform.tfstate").write_text(json.dumps({
        "version": 4, "terraform_version": "1.11.4", "serial": 1,
        "lineage": "3f0c8b8e-0000-4000-8000-000000000001", "outputs": {},
        "resources": [bucket_state("backup", {"ssb_role": "backup", "ssb_classification": "personal"}),
                      bucket_state("tfstate", {"ssb_role": "state"})]}))
    toolchain = prepare()
    for args in (["init", "-input=false"], ["plan", "-refresh=false", "-input=false", "-out=p.tfplan"],
                 ["show", "-json", "p.tfplan"]):
        done = subprocess.run([str(toolchain.terraform), f"-chdir={directory}", *args],
                              env=toolchain.environ(), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    (directory / "plan.json").write_text(done.stdout)
    risk = at_risk(scan(directory / "plan.json"))
    assert sorted(risk) == ["aws_s3_bucket.backup", "aws_s3_bucket.tfstate"]
    assert "deletes the backup bucket (the only copy to restore personal data from)" in risk[
        "aws_s3_bucket.backup"]
    assert "deletes the Terraform state bucket" in risk["aws_s3_bucket.tfstate"]
