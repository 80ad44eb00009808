"""A thin layer over the Terraform CLI: the steps users run, with readable diagnostics.

No wrapper library: `python-terraform` is abandoned and its `apply` is broken on current
Terraform; the few calls we need are plain subprocesses with `-chdir`, a CLI config file of
our own (never the user's `~/.terraformrc`) and `CHECKPOINT_DISABLE=1`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import MissingPrerequisite
from generator.render.hcl import quote
from generator.terraform import TERRAFORM_MISSING


class TerraformMissing(MissingPrerequisite):
    """terraform is not on PATH."""


@dataclass(frozen=True)
class Diagnostic:
    """One error or warning Terraform reported, located in the user's directory."""

    severity: str
    summary: str
    detail: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: " if self.file else ""
        detail = " ".join(self.detail.split())
        return f"{where}{self.severity}: {self.summary}" + (f": {detail}" if detail else "")


@dataclass
class Step:
    """The outcome of one Terraform command."""

    name: str
    code: int
    output: str = ""
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.code == 0


def terraform_binary() -> str:
    found = shutil.which("terraform")
    if not found:
        raise TerraformMissing(TERRAFORM_MISSING)
    return found


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for Terraform: no update checks, no prompts, our CLI config."""
    env = dict(os.environ)
    env.update({"CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"})
    if "TF_CLI_CONFIG_FILE" in env and not Path(env["TF_CLI_CONFIG_FILE"]).is_file():
        # A config path that does not exist only produces a warning on every call.
        env.pop("TF_CLI_CONFIG_FILE")
    env.update(extra or {})
    return env


def run(
    args: Sequence[str], cwd: Path, env: Mapping[str, str], *, stream: bool = False, name: str | None = None,
    lines: Callable[[str], None] | None = None,
) -> Step:
    """Run `terraform -chdir=cwd ARGS`; stream output to the terminal when asked, or hand each
    line to `lines` as Terraform prints it (and keep the whole output too)."""
    command = [terraform_binary(), f"-chdir={cwd}", *args]
    if stream:
        proc = subprocess.run(command, env=dict(env), check=False)
        return Step(name or args[0], proc.returncode)
    if lines is not None:
        kept: list[str] = []
        with subprocess.Popen(command, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, errors="replace") as child:
            assert child.stdout is not None
            for line in child.stdout:
                kept.append(line)
                lines(line.rstrip("\n"))
        return Step(name or args[0], child.returncode, "".join(kept))
    proc = subprocess.run(command, env=dict(env), capture_output=True, text=True, check=False)
    return Step(name or args[0], proc.returncode, proc.stdout + proc.stderr)


def fmt_check(directory: Path, env: Mapping[str, str]) -> Step:
    """`terraform fmt -check -recursive`: each non-canonical file becomes a diagnostic."""
    step = run(["fmt", "-check", "-recursive", "-list=true"], directory, env, name="fmt")
    if step.code == 3 or (step.code != 0 and step.output.strip()):
        for line in step.output.splitlines():
            if line.strip().endswith(".tf"):
                step.diagnostics.append(
                    Diagnostic(
                        "error",
                        "not in canonical format",
                        "run `terraform fmt -recursive`",
                        file=str(directory / line.strip()),
                        line=1,
                        column=1,
                    )
                )
    return step


def validate(directory: Path, env: Mapping[str, str], *, shown_as: Path | None = None) -> Step:
    """`terraform validate -json`, with diagnostics pointing into `shown_as` (the user's dir)."""
    step = run(["validate", "-json", "-no-color"], directory, env, name="validate")
    try:
        report = json.loads(step.output[step.output.index("{") :])
    except ValueError:
        return step
    root = shown_as or directory
    for diag in report.get("diagnostics", []):
        rng = diag.get("range") or {}
        start = rng.get("start") or {}
        step.diagnostics.append(
            Diagnostic(
                severity=diag.get("severity", "error"),
                summary=diag.get("summary", ""),
                detail=diag.get("detail", ""),
                file=str(root / rng["filename"]) if rng.get("filename") else None,
                line=start.get("line"),
                column=start.get("column"),
            )
        )
    return step


def init(directory: Path, env: Mapping[str, str], *, backend: bool = True, stream: bool = False) -> Step:
    args = ["init", "-input=false", "-no-color"]
    if not backend:
        args.append("-backend=false")
    return run(args, directory, env, stream=stream, name="init")


COPY_IGNORE = shutil.ignore_patterns(
    ".terraform", ".terraform.lock.hcl", "*.tfstate", "*.tfstate.*", "*.tfplan"
)


_LOCAL_SOURCE = re.compile(r'^\s*source\s*=\s*"(\.\.?/[^"]*)"', re.M)


def local_module_dirs(directory: Path) -> set[Path]:
    """Every local module directory `directory` uses, directly or through other modules."""
    seen: set[Path] = set()
    todo = [directory.resolve()]
    while todo:
        current = todo.pop()
        for tf_file in current.glob("*.tf"):
            for source in _LOCAL_SOURCE.findall(tf_file.read_text("utf-8", errors="replace")):
                target = (current / source).resolve()
                if target not in seen and target.is_dir():
                    seen.add(target)
                    todo.append(target)
    return seen


@contextmanager
def scratch_copy(directory: Path, *, local_backend: bool = True,
                 openstack_version: str | None = None) -> Iterator[Path]:
    """A throwaway copy of a configuration and the local modules it uses (`../modules/...`),
    so offline runs never write into the user's directory; yields the copy of `directory`.

    With `local_backend`, an override file replaces a remote backend by a local one, so plan
    works without reaching Safespring Storage. With `openstack_version`, every module of the
    copy that pins the OpenStack provider (`~> 1.35`) gets an override file requiring that
    version instead: the schema-only provider exists in one version only.
    """
    directory = directory.resolve()
    root = Path(os.path.commonpath([directory, *local_module_dirs(directory)]))
    with tempfile.TemporaryDirectory(prefix="ssb-tf-") as tmp:
        copy_root = Path(tmp) / root.name
        shutil.copytree(root, copy_root, ignore=COPY_IGNORE)
        copy = copy_root / directory.relative_to(root)
        if local_backend and _has_backend(copy):
            (copy / "ssb_backend_override.tf").write_text('terraform {\n  backend "local" {}\n}\n')
        if openstack_version:
            for module in {copy, *(copy_root / d.relative_to(root) for d in local_module_dirs(directory))}:
                _pin_openstack(module, openstack_version)
        yield copy


_OPENSTACK_ENTRY = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*\{[^{}]*'
                              r'source\s*=\s*"terraform-provider-openstack/openstack"[^{}]*\}', re.S)


def _pin_openstack(directory: Path, version: str) -> None:
    """Override a version constraint on the OpenStack provider in one module of a scratch copy."""
    text = "\n".join(f.read_text("utf-8", errors="replace") for f in directory.glob("*.tf"))
    names = {m.group(1) for m in _OPENSTACK_ENTRY.finditer(text) if "version" in m.group(0)}
    if not names:
        return
    entries = "".join(f'    {name} = {{\n      source  = "terraform-provider-openstack/openstack"\n'
                      f'      version = "{version}"\n    }}\n' for name in sorted(names))
    (directory / "ssb_openstack_override.tf").write_text(
        "# Offline: the schema-only OpenStack provider exists in this version only.\n"
        f"terraform {{\n  required_providers {{\n{entries}  }}\n}}\n")


_AWS_PROVIDER = re.compile(r'^provider\s+"aws"\s*\{(.*?)^\}', re.M | re.S)
_ALIAS = re.compile(r'^\s*alias\s*=\s*"([^"]+)"', re.M)


def point_s3_at(directory: Path, endpoint: str) -> list[str]:
    """Send every aws provider of a root module (a scratch copy) to `endpoint`: an override file
    replaces each provider's `endpoints` block, so an offline rehearsal creates the buckets on a
    local S3 API (MinIO, moto) instead of Safespring Storage. Returns the providers it pointed
    (`aws`, `aws.backup`)."""
    text = "\n".join(f.read_text("utf-8", errors="replace") for f in sorted(directory.glob("*.tf")))
    aliases = [(_ALIAS.findall(body) or [None])[0] for body in _AWS_PROVIDER.findall(text)]
    blocks = []
    for alias in aliases:
        head = f"  alias = {quote(alias)}\n" if alias else ""
        blocks.append(f'provider "aws" {{\n{head}  endpoints {{\n    s3 = {quote(endpoint)}\n  }}\n}}\n')
    if blocks:
        (directory / "ssb_s3_endpoint_override.tf").write_text(
            "# Offline rehearsal: buckets go to this S3 API, not Safespring Storage.\n"
            + "\n".join(blocks))
    return [f"aws.{a}" if a else "aws" for a in aliases]


_BACKEND = re.compile(r'^\s*(backend\s+"[^"]+"|cloud)\s*\{', re.M)


def _has_backend(directory: Path) -> bool:
    """True when a root module's .tf files configure a backend (or HCP Terraform's cloud)."""
    return any(_BACKEND.search(f.read_text("utf-8", errors="replace")) for f in directory.glob("*.tf"))
