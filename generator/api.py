"""The library behind the CLI: each user-facing action as one function."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from generator import blueprint
from generator.spec import Checked, Problem, check_file
from generator.write import MANIFEST, WriteResult, manifest, write

if TYPE_CHECKING:
    from types import ModuleType

    from generator.report import Report
    from generator.terraform import run as tf


def today(option: str | None = None) -> dt.date:
    """The date rules compare against: `--today`, else SOURCE_DATE_EPOCH, else the clock (UTC).

    A fixed date makes validation (expiry windows) reproducible in tests and golden files.
    """
    if option:
        return dt.date.fromisoformat(option)
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class Generated:
    """A generated blueprint: the checked spec, where it went and what was written."""

    checked: Checked
    target: Path
    result: WriteResult

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return self.checked.warnings


def files_for(spec_path: str | Path, on: dt.date) -> tuple[Checked, dict[str, bytes]]:
    """Validate the spec and render every blueprint file, manifest included (no disk writes)."""
    checked = check_file(spec_path, on)
    files = blueprint.render(checked.spec)
    files[MANIFEST] = manifest(files, Path(spec_path).name, checked.source)
    return checked, files


def update(directory: str | Path, spec_path: str | Path | None = None, *,
           on: dt.date | None = None, check_only: bool = False) -> tuple[Checked, object]:
    """Regenerate `directory` with the current generator and spec, keeping the user's edits."""
    from generator import update as updater
    from generator.write import OutputError, read_manifest

    target = Path(directory)
    if spec_path is None:
        recorded = (read_manifest(target) or {}).get("spec", {}).get("file")
        if not recorded:
            raise OutputError(f"{target} records no spec: give SPEC")
        spec_path = target.parent / recorded
    checked, files = files_for(spec_path, on or today())
    return checked, updater.apply(target, files, check_only=check_only)


def generate(spec_path: str | Path, output: str | Path | None = None, *,
             on: dt.date | None = None, force: bool = False) -> Generated:
    """Validate, render and atomically write the blueprint for one spec."""
    checked, files = files_for(spec_path, on or today())
    target = Path(output) if output else Path.cwd() / checked.spec.name
    return Generated(checked=checked, target=target, result=write(target, files, force=force))


@dataclass(frozen=True)
class TerraformChecks:
    """The outcome of the Terraform checks on a directory."""

    steps: tuple[tf.Step, ...]

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)


def _terraform() -> ModuleType:
    """The Terraform runner, imported by the commands that run Terraform (not `generate`: its
    import, with `subprocess`, is ~8 ms of a ~250 ms run)."""
    from generator.terraform import run

    return run


def terraform_env(offline: bool) -> dict[str, str]:
    """Terraform's environment: with `offline`, the project's mirror and schema-only provider."""
    tf = _terraform()
    if not offline:
        return tf.base_env()
    from generator.terraform import offline as offline_toolchain

    return tf.base_env(offline_toolchain.prepare().env)


def validate(directory: str | Path, *, offline: bool = False) -> TerraformChecks:
    """`fmt -check`, `init` and `validate` on a blueprint; offline runs work on a scratch copy
    so no lock file made against the schema-only provider lands in the user's directory."""
    tf = _terraform()
    root = Path(directory)
    env = terraform_env(offline)
    steps = [tf.fmt_check(root, env)]
    if offline:
        with tf.scratch_copy(root, openstack_version=_offline_openstack_version()) as copy:
            steps.append(tf.init(copy, env, backend=False))
            if steps[-1].ok:
                steps.append(tf.validate(copy, env, shown_as=root))
    else:
        steps.append(tf.init(root, env, backend=False))
        if steps[-1].ok:
            steps.append(tf.validate(root, env))
    return TerraformChecks(tuple(steps))


def _offline_openstack_version() -> str:
    """The one version the schema-only OpenStack provider is served as."""
    from generator.terraform.schema import PROVIDER_VERSION

    return PROVIDER_VERSION


def _offline_plan_env(env: dict[str, str]) -> dict[str, str]:
    # Planning never calls Safespring Storage (no state, no refresh), but the aws provider
    # wants some credentials to configure itself: placeholders that can open nothing.
    return {"AWS_ACCESS_KEY_ID": "offline-plan", "AWS_SECRET_ACCESS_KEY": "offline-plan",
            **env, "AWS_EC2_METADATA_DISABLED": "true"}


def plan_data(directory: str | Path, *, offline: bool = False, variables: dict[str, str] | None = None,
              validate: bool = False) -> tuple[TerraformChecks, dict]:
    """The plan of a root module as data (`terraform show -json`), for the plan-mode scan.

    Offline: a scratch copy (local backend) against the schema-only OpenStack provider and the
    machine's aws mirror, no credentials. Online: `init` and `plan` in the directory itself with
    the real providers and the user's credentials; the binary plan goes to a temporary file.
    With `validate`, `fmt -check` and `validate` run too, sharing the one `init`.
    """
    import tempfile

    tf = _terraform()
    root = Path(directory)
    env = terraform_env(offline)
    steps: list[tf.Step] = [tf.fmt_check(root, env)] if validate else []
    with tempfile.TemporaryDirectory(prefix="ssb-plan-") as tmp:
        if offline:
            env = _offline_plan_env(env)
            with tf.scratch_copy(root, openstack_version=_offline_openstack_version()) as copy:
                return _init_validate_plan(tf, copy, env, variables, steps, validate, root,
                                           Path(tmp) / "plan.tfplan")
        return _init_validate_plan(tf, root, env, variables, steps, validate, root,
                                   Path(tmp) / "plan.tfplan")


def _init_validate_plan(tf: ModuleType, directory: Path, env: dict[str, str],
                        variables: dict[str, str] | None, steps: list, validate: bool, shown_as: Path,
                        out: Path) -> tuple[TerraformChecks, dict]:
    steps.append(tf.init(directory, env, backend=True))
    if steps[-1].ok and validate:
        steps.append(tf.validate(directory, env, shown_as=shown_as))
    if not all(s.ok for s in steps):
        return TerraformChecks(tuple(steps)), {}
    step, data = tf.plan_json(directory, env, variables or {}, out=out)
    return TerraformChecks((*steps, step)), data


class PlanFailed(RuntimeError):
    """Terraform could not plan the directory, so there is no plan to scan."""

    def __init__(self, checks: TerraformChecks) -> None:
        super().__init__("terraform could not plan the directory; nothing was scanned")
        self.checks = checks


def scan(target: str | Path, *, plan: bool = False, offline: bool = False,
         variables: dict[str, str] | None = None) -> object:
    """Scan with the GDPR pack: a directory as HCL, a plan JSON file, or (with `plan`) the plan
    Terraform makes of the directory (offline: no credentials). Returns a ScanResult; raises
    PlanFailed when Terraform cannot plan."""

    from generator import scan as scanner

    path = Path(target)
    if path.is_file() or not plan:
        return scanner.scan(path)
    checks, data = plan_data(path, offline=offline, variables=variables)
    if not checks.ok:
        raise PlanFailed(checks)
    return scan_plan_data(data, path)


def scan_plan_data(data: dict, source: str | Path) -> object:
    """Scan a plan held as data (`plan_data`), placing findings in the .tf files of `source`."""
    import json
    import tempfile

    from generator import scan as scanner

    with tempfile.TemporaryDirectory(prefix="ssb-scan-") as tmp:
        plan_file = Path(tmp) / "plan.json"
        plan_file.write_text(json.dumps(data), "utf-8")
        return scanner.scan_plan(plan_file, source=source)


def plan(directory: str | Path, *, offline: bool = False,
         variables: dict[str, str] | None = None) -> tuple[TerraformChecks, dict]:
    """Offline: plan a scratch copy (local backend) and return the plan as data.
    Online: `init` + `plan` in the directory itself, streaming Terraform's output."""
    tf = _terraform()
    root = Path(directory)
    if offline:
        return plan_data(root, offline=True, variables=variables)
    env = terraform_env(offline)
    steps = [tf.init(root, env, stream=True)]
    if steps[-1].ok:
        args = ["plan", "-input=false", *[f"-var={k}={v}" for k, v in sorted((variables or {}).items())]]
        steps.append(tf.run(args, root, env, stream=True))
    return TerraformChecks(tuple(steps)), {}


def apply(directory: str | Path, *, auto_approve: bool = False,
          variables: dict[str, str] | None = None) -> TerraformChecks:
    """`init` + `apply` in the directory, interactive approval unless `auto_approve`."""
    tf = _terraform()
    root = Path(directory)
    env = tf.base_env()
    env.pop("TF_INPUT", None)
    steps = [tf.init(root, env, stream=True)]
    if steps[-1].ok:
        args = ["apply", *[f"-var={k}={v}" for k, v in sorted((variables or {}).items())]]
        if auto_approve:
            args.insert(1, "-auto-approve")
        steps.append(tf.run(args, root, env, stream=True))
    return TerraformChecks(tuple(steps))


REPORT_FILES = {"html": "report.html", "markdown": "report.md", "json": "report.json"}


def build_report(directory: str | Path, *, spec_path: str | Path | None = None,
                 on: dt.date | None = None, result: object = None) -> Report:
    """The compliance report of a blueprint (scans it unless a ScanResult is given)."""
    from generator.report import build

    return build(directory, spec_path, today=on or today(), result=result)


def report(directory: str | Path, out_dir: str | Path, *, spec_path: str | Path | None = None,
           on: dt.date | None = None, result: object = None) -> tuple[Report, tuple[str, ...]]:
    """Write the report as HTML, Markdown and JSON into `out_dir`; returns it and the files."""
    from generator.report import FORMATS

    built = build_report(directory, spec_path=spec_path, on=on, result=result)
    target = Path(out_dir)
    target.mkdir(parents=True, exist_ok=True)
    for fmt, name in REPORT_FILES.items():
        (target / name).write_text(FORMATS[fmt](built), encoding="utf-8")
    return built, tuple(REPORT_FILES.values())
