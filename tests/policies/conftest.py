"""One scan per fixture tree and mode per session: Checkov's registry is global anyway, and a
plan costs a Terraform init and several seconds of provider start-up."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.api import scan_plan_data
from generator.evidence.plan import split_address
from generator.scan import Finding, ScanResult, scan

from ..conftest import TODAY_EPOCH

HERE = Path(__file__).resolve().parent


@contextmanager
def pinned_today() -> Iterator[None]:
    """SOURCE_DATE_EPOCH set to the suite's fixed date for the duration of a scan."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = TODAY_EPOCH
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before

FIXTURES = HERE / "fixtures"
SCAN_FIXTURES = HERE / "scan_fixtures"
STYLES = HERE / "styles"
# The per-check fixtures as modules of one root (one init, one plan) ...
PLAN_ROOT = HERE / "plan_root"
# ... and those whose check looks at a whole root module, planned as roots, with the values
# their unset variables get in the plan.
OWN_ROOTS: dict[str, dict[str, str]] = {
    "ckv_gdpr_11": {}, "ckv_gdpr_12": {"os_password": "in-a-variable"}, "ckv_gdpr_14": {},
    "ckv_gdpr_28": {},
    "ckv_gdpr_17": {}, "ckv_gdpr_22": {}, "ckv_gdpr_22/with_backup": {}, "ckv_gdpr_25": {},
    "ckv_gdpr_26": {}, "ckv_gdpr_27": {},
    **{f"ckv_gdpr_16/{case.name}": {} for case in sorted((FIXTURES / "ckv_gdpr_16").iterdir())
       if case.is_dir()},
}
MODES = ("hcl", "plan")


@dataclass(frozen=True)
class Row:
    """A finding of a fixture scan, in terms of the fixture that was written."""

    check_id: str
    file: str  # relative to tests/policies/fixtures
    name: str  # the block's name in the fixture (`pass`, `fail[1]`, a module call's name)
    status: str
    details: tuple[str, ...]


def fixture_name(resource: str) -> str:
    """`pass` for `openstack_x.pass`, `module.ckv_gdpr_1.openstack_x.pass`, `pass[1]` for a
    counted one, and the call's name for a resource inside a module call of the fixture."""
    modules, _, name, key, _ = split_address(resource)
    if modules and modules[0][0].startswith("ckv_gdpr_"):
        modules = modules[1:]  # the plan root's call of the fixture
    if modules:
        name, key = modules[0]
    if "." in resource and not resource.startswith("module.") and not modules and resource.count(".") == 1 \
            and resource.split(".")[0] in ("aws", "openstack"):
        return resource.split(".", 1)[1]  # a provider block: its alias
    return name + (f"[{key}]" if isinstance(key, int) else f'["{key}"]' if key is not None else "")


def rows(result: ScanResult, source: Path) -> list[Row]:
    """The findings with files made relative to the fixture tree."""
    out = []
    for f in result.findings:
        path = os.path.relpath(os.path.normpath(Path(result.root) / f.file), FIXTURES) \
            if result.mode == "plan" else f.file
        out.append(Row(f.check_id, path, fixture_name(f.resource), f.status, f.details))
    return out


@pytest.fixture(scope="session")
def fixture_scan() -> ScanResult:
    # CKV_GDPR_15 compares expiry dates with today: pin it as the rest of the suite does.
    with pinned_today():
        return scan(FIXTURES)


@pytest.fixture(scope="session")
def fixture_plan_scans(planned: Callable[..., dict]) -> list[ScanResult]:
    """Plan mode of the per-check fixtures: the plan root and the fixtures planned as roots."""
    roots = [(PLAN_ROOT, {})] + [(FIXTURES / name, variables) for name, variables in OWN_ROOTS.items()]
    with pinned_today():
        return [scan_plan_data(planned(root, variables), root) for root, variables in roots]


@pytest.fixture(scope="session")
def fixture_rows(fixture_scan: ScanResult, fixture_plan_scans: list[ScanResult]) -> dict[str, list[Row]]:
    """Both modes' findings on the per-check fixtures, as rows."""
    return {"hcl": rows(fixture_scan, FIXTURES),
            "plan": [r for result in fixture_plan_scans for r in rows(result, Path(result.root))]}


@pytest.fixture(scope="session")
def style_scans(planned: Callable[..., dict]) -> dict[str, ScanResult]:
    """The style fixtures (tests/policies/styles) in both modes."""
    return {"hcl": scan(STYLES), "plan": scan_plan_data(planned(STYLES), STYLES)}


@pytest.fixture(scope="session")
def scans() -> dict[str, ScanResult]:
    """Scans of the small trees that pin Checkov's behaviour and the scan's own rules."""
    return {d.name: scan(d) for d in sorted(SCAN_FIXTURES.iterdir()) if d.is_dir()}


def custom_failures(result: ScanResult) -> list[Finding]:
    return [f for f in result.failed if f.custom]
