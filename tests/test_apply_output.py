"""What `plan` and `apply` print, tried as a new user reads it: changes without the unchanged,
counts, "DATA AT RISK: none" said plainly, Terraform's progress while it applies, plain text when
piped, and a hint instead of a bare DNS error when a rehearsal has no S3 endpoint."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import ROOT, run_cli

KEY = ["-var", "key_pair=anna"]


def _copy(name: str, tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "blueprints" / name, tmp_path / name)
    shutil.copy2(ROOT / "blueprints" / f"{name}.yaml", tmp_path / f"{name}.yaml")
    return tmp_path / name


def test_plan_and_apply_say_what_changes_and_show_progress(tmp_path: Path) -> None:
    bp = _copy("minimal", tmp_path)
    planned = run_cli("plan", str(bp), "--offline", *KEY)
    assert planned.code == 0, planned.err
    assert "Plan: 10 to create; 0 unchanged" in planned.out
    assert "  + create  module.instances_app.openstack_compute_instance_v2.this[0]" in planned.out
    assert "DATA AT RISK: none" in planned.out

    applied = run_cli("apply", str(bp), "--offline", "--auto-approve", *KEY)
    assert applied.code == 0, applied.err
    lines = applied.err.splitlines()
    created = [i for i, line in enumerate(lines) if ": Creation complete after" in line]
    assert len(created) == 10, applied.err
    # Terraform's lines arrive between the step's start and its end, not after it.
    assert lines.index("apply ...") < created[0] < created[-1] < next(
        i for i, line in enumerate(lines) if line.startswith("apply: ok"))
    assert not any(line.lstrip().startswith(("Outputs:", '"ids"')) for line in lines)
    assert "DATA AT RISK: none" in applied.err
    assert "Apply complete! Resources: 10 added, 0 changed, 0 destroyed." in applied.out
    for text in (planned.out, planned.err, applied.out, applied.err):
        assert "\x1b[" not in text  # no colour codes in piped output

    again = run_cli("plan", str(bp), "--offline", *KEY)
    assert again.code == 0, again.err
    assert "Plan: no changes; 10 unchanged" in again.out
    assert "no-op" not in again.out and "create" not in again.out


def test_a_rehearsal_without_an_s3_endpoint_says_what_to_do(tmp_path: Path) -> None:
    """The aws provider cannot reach Safespring Storage from here: the error is shown in whole
    lines, with the option that rehearses buckets on a local S3 API."""
    bp = _copy("patient-portal", tmp_path)
    done = run_cli("apply", str(bp), "--offline", "--auto-approve", *KEY, timeout=900)
    assert done.code == 1
    assert "hint: the aws provider tried to reach Safespring Storage" in done.err
    assert "--s3-endpoint URL" in done.err
    assert "\x1b[" not in done.err and "Traceback" not in done.err
    # Whole lines: each error names its bucket and ends with the reason Terraform gave.
    errors = [line for line in done.err.splitlines() if "Error: creating S3 Bucket" in line]
    assert errors and all("safedc.net" in line for line in errors), errors
