"""Import only the built-in Checkov checks a scan can use.

Importing Checkov's Terraform package imports every built-in resource and data check (~930
modules, for AWS, Azure, GCP, Kubernetes, ...), about half of the import time of a scan. A
scan of a blueprint can only use the checks of the resource and data types in it, so before
Checkov's Terraform package is imported, the two packages that import every check are stood in
for by empty ones, and the checks of the types in the scan are imported from the index
`generator/data/checkov_builtin.json` (written from Checkov's own registries by
scripts/checkov_builtin_index.py; a test holds it to the installed Checkov and the findings to
those of a full import). Each later scan in the process imports what its types add.

One more cost is Checkov's at run time: its JSONPath parser (bc_jsonpath_ng) builds PLY's LR
tables anew for every expression it parses (tens per blueprint, more time than the checks), so
the tables built once are reused, one parser per thread (Checkov renders variables in threads).

`SAFESPRING_BLUEPRINTS_CHECKOV_ALL=1` imports every check and leaves Checkov as it is.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import json
import os
import re
import sys
import types
from collections.abc import Iterable
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

ALL_ENV = "SAFESPRING_BLUEPRINTS_CHECKOV_ALL"
_PACKAGES = {"resource": "checkov.terraform.checks.resource", "data": "checkov.terraform.checks.data"}
_STUBBED: set[str] = set()
_TYPE = re.compile(r'^\s*(?:resource|data)\s+"([A-Za-z0-9_-]+)"', re.M)
_PLAN_TYPE = re.compile(r'"type"\s*:\s*"([A-Za-z0-9_-]+)"')


@cache
def index() -> dict:
    """Checkov's built-in checks: {"checkov": version, "resource"|"data": {module: [types]}}."""
    path = Path(__file__).resolve().parent / "data" / "checkov_builtin.json"
    return json.loads(path.read_text("utf-8"))


def _stub(name: str) -> None:
    spec = importlib.util.find_spec("checkov")
    assert spec is not None and spec.submodule_search_locations
    location = str(Path(next(iter(spec.submodule_search_locations)), *name.split(".")[1:]))
    module = types.ModuleType(name, "Stands in for Checkov's package that imports every check.")
    module.__path__ = [location]
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    module.__spec__.submodule_search_locations = [location]
    sys.modules[name] = module
    _STUBBED.add(name)


def load(used: Iterable[str] | None) -> None:
    """Make sure the built-in checks of the `used` types (None: all) are registered."""
    if os.environ.get(ALL_ENV):
        used = None
    else:
        _reuse_jsonpath_tables()
    for kind, package in _PACKAGES.items():
        if package not in sys.modules:
            if used is None:
                continue  # Checkov's own package imports every check
            _stub(package)
        if package not in _STUBBED:
            continue  # imported whole already
        wanted = set(used) if used is not None else None
        for module, checked in index()[kind].items():
            if module in sys.modules:
                continue
            if wanted is None or any(fnmatchcase(t, p) for p in checked for t in wanted):
                importlib.import_module(module)


def types_in_directory(root: Path) -> set[str] | None:
    """The resource and data types of the .tf files under `root` (None when there are .tf.json
    files, which this does not read: then every check is loaded)."""
    found: set[str] = set()
    for path in root.rglob("*.tf*"):
        if path.name.endswith(".tf.json"):
            return None
        if path.suffix == ".tf" and ".terraform" not in path.parts:
            found.update(_TYPE.findall(path.read_text("utf-8", errors="replace")))
    return found


def types_in_plan(text: str) -> set[str]:
    """Every type a plan JSON names (a superset: variable types come along, harmlessly)."""
    return set(_PLAN_TYPE.findall(text))


_JSONPATH_PATCHED: list[bool] = []


def _reuse_jsonpath_tables() -> None:
    """Parse JSONPath expressions with tables built once per parser class and thread; what
    bc_jsonpath_ng builds per call is the same parser from the same grammar."""
    if _JSONPATH_PATCHED:
        return
    import threading

    import ply.yacc
    from bc_jsonpath_ng import parser

    made = threading.local()

    def parse_token_stream(self: Any, token_iterator: Any, start_symbol: str = "jsonpath") -> Any:
        key = (type(self), start_symbol, bool(self.debug))
        parsers = made.__dict__.setdefault("parsers", {})
        if key not in parsers:  # the arguments bc_jsonpath_ng passes, table module included
            parsers[key] = ply.yacc.yacc(
                module=self, debug=self.debug, tabmodule=f"parser_{start_symbol}_parsetab",
                outputdir=os.path.dirname(parser.__file__), write_tables=0, start=start_symbol,
                errorlog=parser.logger)
        return parsers[key].parse(lexer=parser.IteratorToTokenStream(token_iterator))

    parser.JsonPathParser.parse_token_stream = parse_token_stream
    _JSONPATH_PATCHED.append(True)
