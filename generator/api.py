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
        with tf.scratch_copy(root) as copy:
            steps.append(tf.init(copy, env, backend=False))
            if steps[-1].ok:
                steps.append(tf.validate(copy, env, shown_as=root))
    else:
        steps.append(tf.init(root, env, backend=False))
        if steps[-1].ok:
            steps.append(tf.validate(root, env))
    return TerraformChecks(tuple(steps))


def plan(directory: str | Path, *, offline: bool = False,
         variables: dict[str, str] | None = None) -> tuple[TerraformChecks, dict]:
    """Offline: plan a scratch copy (local backend) and return the plan as data.
    Online: `init` + `plan` in the directory itself, streaming Terraform's output."""
    tf = _terraform()
    root = Path(directory)
    env = terraform_env(offline)
    if offline:
        # Planning never calls Safespring Storage (no state, no refresh), but the aws provider
        # wants some credentials to configure itself: placeholders that can open nothing.
        env = {"AWS_ACCESS_KEY_ID": "offline-plan", "AWS_SECRET_ACCESS_KEY": "offline-plan",
               **env, "AWS_EC2_METADATA_DISABLED": "true"}
        with tf.scratch_copy(root) as copy:
            steps = [tf.init(copy, env, backend=True)]
            if not steps[-1].ok:
                return TerraformChecks(tuple(steps)), {}
            step, data = tf.plan_json(copy, env, variables or {})
            return TerraformChecks((*steps, step)), data
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


def show_plan(directory: str | Path, plan_file: str | Path) -> tuple[TerraformChecks, dict]:
    """`terraform show -json PLAN` in `directory` as a review document with every sensitive
    value redacted (generator/terraform/review.py): what CI publishes instead of the plan."""
    import json

    from generator.terraform import review

    tf = _terraform()
    plan = Path(plan_file).resolve()
    step = tf.run(["show", "-json", "-no-color", str(plan)], Path(directory), tf.base_env(),
                  name="show")
    if not step.ok:
        return TerraformChecks((step,)), {}
    try:
        data, _ = json.JSONDecoder().raw_decode(step.output[step.output.index("{"):])
    except ValueError:
        step.code = step.code or 1
        return TerraformChecks((step,)), {}
    return TerraformChecks((step,)), review.redact(data)


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
