"""Fast checks of modules/bucket and modules/state-bucket: fmt, validate, input rules, Checkov.

No S3 server needed; everything runs offline against the real terraform and checkov binaries.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from storage_harness import REPO_ROOT, TerraformRunner

MODULES = ["modules/bucket", "modules/state-bucket"]

# Built-in checks that ask for what Safespring Storage rejects; each must be skipped with a
# written reason inside the resource block (SAFESPRING.md, "Storage").
EXPECTED_SKIPS = {"CKV_AWS_145", "CKV_AWS_18", "CKV_AWS_144", "CKV2_AWS_62"}

# Checks that must run and pass: if one of these disappears from the results, Checkov silently
# stopped evaluating it (broken checks never fail a run) or the module lost the measure.
EXPECTED_PASSES = {
    "CKV_AWS_21",  # versioning
    "CKV2_AWS_6",  # public access block present
    "CKV_AWS_53",  # block_public_acls
    "CKV_AWS_54",  # block_public_policy
    "CKV_AWS_55",  # ignore_public_acls
    "CKV_AWS_56",  # restrict_public_buckets
    "CKV2_AWS_61",  # lifecycle configuration
    "CKV_AWS_300",  # abort incomplete multipart uploads
}


def test_terraform_fmt_is_clean(terraform: TerraformRunner) -> None:
    """Unformatted HCL is a review burden and a sign of hand edits that skipped the tooling."""
    targets = [*MODULES, "tests/storage/fixtures"]
    proc = terraform(["fmt", "-check", "-recursive", "-diff", "-no-color", *targets], REPO_ROOT)
    assert proc.returncode == 0, terraform.describe(proc)


@pytest.mark.parametrize("module", MODULES)
def test_example_validates(module: str, terraform: TerraformRunner, tmp_path: Path) -> None:
    """Each module's examples/basic is its documentation: it must init and validate offline."""
    terraform.copy_into(tmp_path, [module])
    example = tmp_path / module / "examples" / "basic"

    init = terraform(["init", "-backend=false", "-input=false", "-no-color"], example)
    assert init.returncode == 0, terraform.describe(init)

    proc = terraform(["validate", "-json", "-no-color"], example, label=f"validate {module}")
    assert proc.returncode == 0, terraform.describe(proc)
    result = json.loads(proc.stdout)
    assert result["valid"] is True, proc.stdout
    assert result["error_count"] == 0, proc.stdout
    assert result["warning_count"] == 0, proc.stdout


PROVIDER_BLOCK = """
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

# Rules on one variable: `terraform validate` already evaluates them for literal inputs.
SINGLE_VARIABLE_CASES = """
module "bad_name" {
  source         = "../modules/bucket"
  name           = "Personal_Data"
  retention_days = 30
}

module "no_retention" {
  source         = "../modules/bucket"
  name           = "no-retention"
  retention_days = 0
}

module "bad_lock_mode" {
  source         = "../modules/bucket"
  name           = "bad-lock-mode"
  retention_days = 30
  object_lock    = { mode = "compliance", days = 7 }
}

module "state_bad" {
  source                    = "../modules/state-bucket"
  name                      = "st"
  noncurrent_retention_days = 0.5
}
"""

# A rule that refers to two variables: Terraform evaluates it only at plan time, and only once
# every single-variable rule has passed, hence a root of its own.
CROSS_VARIABLE_CASES = """
module "lock_longer_than_retention" {
  source         = "../modules/bucket"
  name           = "lock-longer"
  retention_days = 30
  object_lock    = { mode = "COMPLIANCE", days = 31 }
}
"""

# (root, terraform command, expected errors as (module call, message fragment))
BAD_INPUT_CASES = [
    pytest.param(
        SINGLE_VARIABLE_CASES,
        "validate",
        [
            ("bad_name", "name must be 3-63 characters"),
            ("no_retention", "retention_days must be a whole number of days, at least 1"),
            ("bad_lock_mode", "object_lock.mode must be COMPLIANCE or GOVERNANCE"),
            ("state_bad", "name must be 3-63 characters"),
            ("state_bad", "noncurrent_retention_days must be a whole number of days, at least 1"),
        ],
        id="single-variable-rules",
    ),
    pytest.param(
        CROSS_VARIABLE_CASES,
        "plan",
        [("lock_longer_than_retention", "object_lock.days must not exceed retention_days")],
        id="object-lock-longer-than-retention",
    ),
]


@pytest.mark.parametrize(("calls", "command", "expected"), BAD_INPUT_CASES)
def test_bad_inputs_are_rejected(
    calls: str,
    command: str,
    expected: list[tuple[str, str]],
    terraform: TerraformRunner,
    tmp_path: Path,
) -> None:
    """Wrong names, missing retention and over-long locks fail before anything is created.

    Planning creates nothing and needs no network (no state, no data sources).
    """
    terraform.copy_into(tmp_path, MODULES)
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(PROVIDER_BLOCK + calls, encoding="utf-8")

    init = terraform(["init", "-backend=false", "-input=false", "-no-color"], root)
    assert init.returncode == 0, terraform.describe(init)

    proc = terraform([command, "-no-color"], root, label=f"{command} of bad inputs")
    assert proc.returncode == 1, terraform.describe(proc)
    # Terraform wraps long messages; compare with whitespace collapsed.
    errors = " ".join(proc.stderr.split())
    # Single-variable rules are variable validations; the lock/retention rule refers to two
    # variables and is a resource precondition (cross-variable validation needs Terraform 1.9).
    header = "Error: Invalid value for variable" if command == "validate" else (
        "Error: Resource precondition failed")
    assert errors.count(header) == len(expected), proc.stderr
    for call, fragment in expected:
        # A precondition failure names the module's file, not the call: that root has one call.
        assert command == "plan" or f'module "{call}"' in errors, (
            f"no error reported for module {call}:\n{proc.stderr}")
        assert fragment in errors, f"missing error {fragment!r}:\n{proc.stderr}"


def _checkov_results(proc: subprocess.CompletedProcess[str]) -> dict[str, list[dict]]:
    assert proc.stdout.strip(), f"checkov printed nothing (exit {proc.returncode}):\n{proc.stderr}"
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    terraform_reports = [r for r in reports if r.get("check_type") == "terraform"]
    assert len(terraform_reports) == 1, proc.stdout[:2000]
    return terraform_reports[0]["results"]


@pytest.mark.parametrize("module", MODULES)
def test_checkov_finds_nothing_and_every_skip_has_a_reason(
    module: str, checkov: Callable[[Path], subprocess.CompletedProcess[str]]
) -> None:
    """Built-in Checkov passes on the module (scanned with its example's inputs).

    Only the four checks Safespring cannot satisfy are skipped, each with a written reason.
    """
    proc = checkov(REPO_ROOT / module)
    results = _checkov_results(proc)

    failed = [(c["check_id"], c["resource"]) for c in results["failed_checks"]]
    assert failed == [], f"Checkov failures in {module}: {failed}"
    assert proc.returncode == 0, proc.stderr

    passed = {c["check_id"] for c in results["passed_checks"]}
    assert passed >= EXPECTED_PASSES, f"checks that did not run: {EXPECTED_PASSES - passed}"

    skipped = results["skipped_checks"]
    assert {c["check_id"] for c in skipped} == EXPECTED_SKIPS
    for check in skipped:
        reason = (check.get("check_result") or {}).get("suppress_comment") or ""
        assert "Safespring" in reason, f"{check['check_id']} skipped without a reason: {reason!r}"
        assert len(reason) > 40, f"{check['check_id']}: reason too thin: {reason!r}"
        # A skip belongs next to the resource it excuses, in this module's own code.
        assert check["file_abs_path"].startswith(str(REPO_ROOT / module)), check["file_abs_path"]


def _hcl_default(block: dict[str, Any]) -> str:
    """Render a variable default the way the README tables write it."""
    if "default" not in block:
        return "required"
    value = block["default"]
    value = value[0] if isinstance(value, list) and len(value) == 1 else value
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == {}:
        return "`{}`"
    return f"`{value}`"


@pytest.mark.parametrize("module", MODULES)
def test_readme_documents_every_input_and_output(module: str) -> None:
    """The README tables between the TF_DOCS markers list exactly the code's inputs/outputs."""
    import hcl2

    module_dir = REPO_ROOT / module
    readme = (module_dir / "README.md").read_text(encoding="utf-8")
    begin, end = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"
    assert begin in readme and end in readme, f"{module}/README.md lacks the TF_DOCS markers"
    docs = readme.split(begin, 1)[1].split(end, 1)[0]
    assert "### Inputs" in docs and "### Outputs" in docs, f"{module}/README.md: table headings"
    inputs_table, outputs_table = docs.split("### Inputs", 1)[1].split("### Outputs", 1)

    def rows(table: str) -> dict[str, list[str]]:
        return {
            cells[0].strip("`"): cells
            for line in table.splitlines()
            if line.startswith("| `")
            for cells in [[c.strip() for c in line.strip().strip("|").split("|")]]
        }

    with (module_dir / "variables.tf").open(encoding="utf-8") as fh:
        variables = {k: v for block in hcl2.load(fh)["variable"] for k, v in block.items()}
    with (module_dir / "outputs.tf").open(encoding="utf-8") as fh:
        outputs = {k for block in hcl2.load(fh)["output"] for k in block}

    input_rows = rows(inputs_table)
    assert set(input_rows) == set(variables), f"{module}: README inputs {sorted(input_rows)}"
    assert set(rows(outputs_table)) == outputs, f"{module}: README outputs"
    for name, block in variables.items():
        assert input_rows[name][2] == _hcl_default(block), f"{module}: default of {name}"
