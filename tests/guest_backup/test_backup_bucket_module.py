"""modules/backup-bucket: fmt, validate, input rules, Checkov, README, and one real apply
against moto_server with the settings read back (and restic writing into the result).

Real terraform (aws provider 5.100.0 from the offline mirror), real Checkov, real moto_server.
The apply (about 75 s: the provider polls the lifecycle configuration until it has read it
back ten times) starts in the background at collection time (conftest.py) and the read-back
tests wait for it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

# storage_harness is on sys.path through backup_harness (read-only reuse of tests/storage).
from storage_harness import VENV_BIN, TerraformRunner

from tests.guest_backup.backup_harness import (
    FAKE_AWS_ENV,
    MODULE,
    REPO,
    TIMINGS,
    BackgroundApply,
    make_terraform,
    require,
    s3_client,
)

BUCKET = "ssb-test-restic-backups"
EXPECTED_SKIPS = {"CKV_AWS_145", "CKV_AWS_18", "CKV_AWS_144", "CKV2_AWS_62"}
EXPECTED_PASSES = {
    "CKV_AWS_21",  # versioning
    "CKV2_AWS_6",  # public access block present
    "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56",  # its four settings
    "CKV2_AWS_61",  # lifecycle configuration
    "CKV_AWS_300",  # abort incomplete multipart uploads
}


@pytest.fixture(scope="module")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> TerraformRunner:
    """Terraform with our own CLI config: providers only from the offline mirror."""
    return make_terraform(tmp_path_factory.mktemp("tf-cli"))


def test_fmt_is_clean(terraform: TerraformRunner) -> None:
    proc = terraform(["fmt", "-check", "-recursive", "-diff", "-no-color", MODULE,
                      "tests/guest_backup/fixtures"], REPO)
    assert proc.returncode == 0, terraform.describe(proc)


def test_example_validates(terraform: TerraformRunner, tmp_path: Path) -> None:
    terraform.copy_into(tmp_path, [MODULE])
    example = tmp_path / MODULE / "examples" / "basic"
    init = terraform(["init", "-backend=false", "-input=false", "-no-color"], example)
    assert init.returncode == 0, terraform.describe(init)
    proc = terraform(["validate", "-json", "-no-color"], example, label="validate backup-bucket")
    assert proc.returncode == 0, terraform.describe(proc)
    result = json.loads(proc.stdout)
    assert (result["valid"], result["error_count"], result["warning_count"]) == (True, 0, 0)


PROVIDER = """
provider "aws" {
  region                      = "us-east-1"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {
    s3 = "https://s3.sto2.safedc.net"
  }
}
"""


def _bad_root(terraform: TerraformRunner, base: Path, calls: dict[str, str]) -> Path:
    root = base / "root"
    terraform.copy_into(base, [MODULE])
    root.mkdir()
    (root / "main.tf").write_text(PROVIDER + "".join(
        f'\nmodule "{name}" {{\n  source = "../{MODULE}"\n  name   = "b-{name.replace("_", "-")}"\n'
        f"  {body}\n}}\n" for name, body in calls.items()))
    init = terraform(["init", "-backend=false", "-input=false", "-no-color"], root)
    assert init.returncode == 0, terraform.describe(init)
    return root


# Terraform checks a rule that refers to two variables only once every single-variable rule
# has passed, hence two roots (each costs a provider start, ~8 s).
SINGLE = {
    "lock_zero": ("lock_days = 0", "lock_days must be a whole number of days from 1 to 365"),
    "lock_mode_lowercase": ('lock_mode = "governance"', "lock_mode must be GOVERNANCE or COMPLIANCE"),
    "bad_classification": ('classification = "secret"', "classification must be personal"),
}
CROSS = {
    "noncurrent_not_longer_than_lock": (
        "lock_days = 30\n  noncurrent_retention_days = 30",
        "noncurrent_retention_days must be greater than lock_days",
    ),
}


def test_bad_inputs_are_rejected(terraform: TerraformRunner, tmp_path: Path) -> None:
    """Wrong lock settings fail at validate/plan time, before anything is created."""
    single = _bad_root(terraform, tmp_path / "single", {k: v[0] for k, v in SINGLE.items()})
    cross = _bad_root(terraform, tmp_path / "cross", {k: v[0] for k, v in CROSS.items()})
    validate = terraform(["validate", "-no-color"], single, label="validate of bad inputs")
    plan = terraform(["plan", "-no-color", "-refresh=false"], cross,
                     label="plan of a bad cross-variable input")
    for proc, cases in ((validate, SINGLE), (plan, CROSS)):
        assert proc.returncode == 1, terraform.describe(proc)
        errors = " ".join(proc.stderr.split())
        assert errors.count("Error: Invalid value for variable") == len(cases), proc.stderr
        for name, (_, fragment) in cases.items():
            assert f'module "{name}"' in errors, f"no error for {name}:\n{proc.stderr}"
            assert fragment in errors, f"missing {fragment!r}:\n{proc.stderr}"


def test_checkov_passes_with_reasoned_skips_only() -> None:
    binary = VENV_BIN / "checkov"
    if not binary.exists():
        binary = Path(require("checkov"))
    start = time.monotonic()
    proc = subprocess.run([str(binary), "-d", str(REPO / MODULE), "--framework", "terraform",
                           "--skip-download", "-o", "json"],
                          capture_output=True, text=True, timeout=300, check=False)
    TIMINGS.append(("checkov modules/backup-bucket", time.monotonic() - start))
    data = json.loads(proc.stdout)
    results = (data[0] if isinstance(data, list) else data)["results"]
    failed = [(c["check_id"], c["resource"]) for c in results["failed_checks"]]
    assert failed == [], failed
    assert proc.returncode == 0, proc.stderr
    passed = {c["check_id"] for c in results["passed_checks"]}
    assert passed >= EXPECTED_PASSES, EXPECTED_PASSES - passed
    skipped = results["skipped_checks"]
    assert {c["check_id"] for c in skipped} == EXPECTED_SKIPS
    for check in skipped:
        reason = (check.get("check_result") or {}).get("suppress_comment") or ""
        assert "Safespring" in reason and len(reason) > 40, (check["check_id"], reason)
        assert check["file_abs_path"].startswith(str(REPO / MODULE)), check["file_abs_path"]


def test_readme_documents_every_input_and_output() -> None:
    import hcl2

    readme = (REPO / MODULE / "README.md").read_text()
    docs = readme.split("<!-- BEGIN_TF_DOCS -->", 1)[1].split("<!-- END_TF_DOCS -->", 1)[0]
    inputs, outputs = docs.split("### Inputs", 1)[1].split("### Outputs", 1)

    def names(table: str) -> set[str]:
        return {line.split("|")[1].strip().strip("`") for line in table.splitlines()
                if line.startswith("| `")}

    with (REPO / MODULE / "variables.tf").open() as fh:
        variables = {k for block in hcl2.load(fh)["variable"] for k in block}
    with (REPO / MODULE / "outputs.tf").open() as fh:
        outs = {k for block in hcl2.load(fh)["output"] for k in block}
    assert names(inputs) == variables
    assert names(outputs) == outs


def test_applied_bucket_reads_back(applied_bucket: BackgroundApply) -> None:
    """Object Lock COMPLIANCE (the default) 14 days, versioning, no current-version expiration, noncurrent
    versions after 30 days, public access blocked, TLS-only policy, evidence tags."""
    assert "Apply complete! Resources: 6 added, 0 changed, 0 destroyed." in applied_bucket.applied
    s3 = s3_client(applied_bucket.endpoint)
    assert applied_bucket.outputs["backups"]["name"] == BUCKET
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    lock = s3.get_object_lock_configuration(Bucket=BUCKET)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    retention = lock["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"], retention.get("Years", 0)) == ("COMPLIANCE", 14, 0)

    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert len(rules) == 1
    rule = rules[0]
    assert rule["Status"] == "Enabled" and rule.get("Filter", {}) in ({}, {"Prefix": ""})
    # Current versions never expire: only orphaned delete markers are removed.
    assert rule["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}

    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert [s["Condition"] for s in policy["Statement"]] == [
        {"Bool": {"aws:SecureTransport": "false"}}]

    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]}
    assert tags["ssb_classification"] == "personal-special"
    assert tags["ssb_deployment"] == "test"
    assert tags["ssb_measures"] == applied_bucket.outputs["backups"]["measures"]
    assert {"object-lock-compliance", "versioning", "tls-only"} <= set(tags["ssb_measures"].split())


def test_restic_writes_into_the_applied_bucket(
    applied_bucket: BackgroundApply, tmp_path: Path
) -> None:
    """The bucket Terraform made takes restic's writes under its default lock (restic sends
    Content-MD5). moto reads the TLS-only policy as a plain deny (TOOLCHAIN.md), so the policy
    is removed first: a stand-in limit, on Safespring the endpoint is TLS anyway."""
    s3 = s3_client(applied_bucket.endpoint)
    s3.delete_bucket_policy(Bucket=BUCKET)
    data = tmp_path / "data"
    data.mkdir()
    (data / "f").write_bytes(b"x" * 1000)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RESTIC_"))}
    env.update({**FAKE_AWS_ENV, "RESTIC_PASSWORD": "test-only", "HOME": str(tmp_path),
                "RESTIC_REPOSITORY": f"s3:{applied_bucket.endpoint}/{BUCKET}/app-1"})
    restic = [require("restic"), "-o", "s3.bucket-lookup=path"]
    for args in (["init"], ["backup", str(data)]):
        proc = subprocess.run([*restic, *args], env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
    head = s3.head_object(Bucket=BUCKET, Key="app-1/config")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    shutil.rmtree(data)
