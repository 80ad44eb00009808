"""The pack inside a Checkov run of the user's own: the path command, the real checkov CLI with
--external-checks-dir, and ids no built-in check can shadow."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from generator.policies import DIRECTORY, pack_checks
from generator.scan import ScanResult

from ..conftest import run_cli
from .conftest import STYLES


def _checkov() -> str:
    found = shutil.which("checkov") or str(Path(sys.executable).parent / "checkov")
    assert Path(found).exists(), "checkov is not installed next to this Python"
    return found


def test_pack_path_prints_the_directory_checkov_loads() -> None:
    run = run_cli("pack-path")
    assert run.code == 0, run.err
    assert Path(run.out.strip()) == DIRECTORY
    # Checkov skips a directory without __init__.py silently.
    assert (DIRECTORY / "__init__.py").is_file()


def test_checkov_cli_with_the_pack_gives_the_scans_findings(style_scans: dict[str, ScanResult]) -> None:
    pack = run_cli("pack-path").out.strip()
    proc = subprocess.run(
        [_checkov(), "-d", str(STYLES), "--external-checks-dir", pack, "--framework", "terraform",
         "--skip-download", "--compact", "-o", "json"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    results = report["results"]
    cli = {(r["check_id"], r["resource"], status)
           for status, key in (("passed", "passed_checks"), ("failed", "failed_checks"),
                               ("skipped", "skipped_checks"))
           for r in results[key] if r["check_id"].startswith("CKV_GDPR_")}
    # Plain Checkov has no UNKNOWN: it fails closed on one, and says so in the details.
    ours = {(f.check_id, f.resource, "failed" if f.status == "unknown" else f.status)
            for f in style_scans["hcl"].findings if f.custom}
    assert cli == ours
    # Every check of the pack that has something to judge in the styles ran in Checkov's CLI:
    # they have no load-balancer listener and no port (CKV_GDPR_29, 31), no instance on the
    # private network and no egress proxy, the only instances CKV_GDPR_25 and 26 judge
    # (tests/policies/fixtures covers them).
    assert {c[0] for c in cli} >= set(pack_checks()) - {"CKV_GDPR_25", "CKV_GDPR_26", "CKV_GDPR_29",
                                                         "CKV_GDPR_31"}
    unknown = {(f.check_id, f.resource) for f in style_scans["hcl"].unknown}
    said = {(r["check_id"], r["resource"]): r.get("details") or r["check_result"].get("details") or []
            for r in results["failed_checks"] if (r["check_id"], r["resource"]) in unknown}
    assert unknown and set(said) == unknown
    assert all(details and details[0].startswith("UNKNOWN: ") for details in said.values())


BUILTIN_IDS = """
import json
from checkov.common.checks_infra.registry import get_graph_checks_registry
from checkov.terraform.checks.data.registry import data_registry
from checkov.terraform.checks.module.registry import module_registry
from checkov.terraform.checks.provider.registry import provider_registry
from checkov.terraform.checks.resource.registry import resource_registry

graph = get_graph_checks_registry("terraform")
graph.load_checks()
ids = {c.id for c in graph.checks}
for registry in (resource_registry, data_registry, module_registry, provider_registry):
    for checks in registry.checks.values():
        ids |= {c.id for c in checks}
print(json.dumps(sorted(ids)))
"""


def test_no_builtin_check_shares_an_id_with_the_pack() -> None:
    # In a fresh interpreter: a scan earlier in this process imports only the built-in checks
    # it needs (generator/checkov_load.py), so this process's registries are not all of them.
    import json
    import subprocess
    import sys

    ours = set(pack_checks())
    run = subprocess.run([sys.executable, "-c", BUILTIN_IDS], capture_output=True, text=True,
                         check=True, timeout=600)  # hang guard: Checkov loads in seconds
    builtin = set(json.loads(run.stdout.strip().splitlines()[-1]))
    assert len(builtin) > 500  # the built-in registries were really read
    assert not {i for i in builtin if i.startswith("CKV_GDPR_")}
    assert not ours & builtin
