"""The evidence package imports in one direction, and the apply gate's part needs no Checkov."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import generator.evidence as package

from ..conftest import ROOT

# Each module may import only the modules before it (generator.evidence.__init__ says why).
ORDER = ["day", "values", "plan", "source", "hcl", "scope", "secgroup", "graph", "userdata", "sites",
         "s3policy", "inplace", "change", "check"]
HERE = Path(package.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    """generator.* modules a file imports, at any depth (imports inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("generator"):
            found.add(node.module)
            if node.module == "generator.evidence":
                found |= {f"generator.evidence.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("generator")}
    return found


def test_every_module_of_the_package_has_its_place() -> None:
    assert sorted(p.stem for p in HERE.glob("*.py") if p.stem != "__init__") == sorted(ORDER)


def test_imports_run_one_way() -> None:
    for i, name in enumerate(ORDER):
        used = {m.removeprefix("generator.evidence.") for m in _imports(HERE / f"{name}.py")
                if m.startswith("generator.evidence.")}
        assert used <= set(ORDER[:i]), (name, used - set(ORDER[:i]))
        assert not {m for m in _imports(HERE / f"{name}.py") if m.startswith("generator.policies")}


def test_the_checks_import_evidence_never_each_other() -> None:
    for path in (ROOT / "generator" / "policies").glob("ckv_gdpr_*.py"):
        assert not {m for m in _imports(path) if m.startswith("generator.policies")}, path.name


def test_the_apply_gate_loads_no_checkov() -> None:
    code = "import sys, generator.allow; print(any(m.startswith('checkov') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
