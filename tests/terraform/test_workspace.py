"""One way to plan: plan, scan --plan and apply hand a root the same variables."""

from __future__ import annotations

import shutil
from pathlib import Path

from tf_harness import FIXTURES

from tests.conftest import run_cli

UNDECLARED = "Value for undeclared variable"


def test_plan_scan_and_apply_agree_on_an_undeclared_variable(tmp_path: Path) -> None:
    """`-var key_pair=x` on a root without that variable: plan, scan --plan and apply all refuse
    it as Terraform does (exit 1, naming it), none silently drops it."""
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "roots" / "no_variables", root)
    plan = run_cli("plan", str(root), "--offline", "-var", "key_pair=x", timeout=300)
    scan = run_cli("scan", str(root), "--plan", "--offline", "-var", "key_pair=x", timeout=300)
    apply = run_cli("apply", str(root), "--offline", "--auto-approve", "-var", "key_pair=x",
                    timeout=300)
    for name, done in (("plan", plan), ("scan", scan), ("apply", apply)):
        assert done.code == 1, f"{name}: {done.code}\n{done.out}\n{done.err}"
        assert UNDECLARED in done.err and "key_pair" in done.err, f"{name}:\n{done.err}"
    assert not (root / "terraform.tfstate").exists()
    # Without the stray variable, all three work.
    assert run_cli("plan", str(root), "--offline", timeout=300).code == 0
    assert run_cli("apply", str(root), "--offline", "--auto-approve", timeout=300).code == 0
    assert (root / "terraform.tfstate").is_file()
