"""The generated CI templates run as generated: every step of both, in order, for real.

The minimal example's `ci/github-actions.yml` and `ci/gitlab-ci.yml` are parsed and each job
runs in a fresh copy of a repository laid out as the templates assume (the blueprint at
`blueprints/<name>/`, its spec beside it), job after job, with the shell each CI uses
(`bash --noprofile --norc -eo pipefail`). For real: every `run:` step and script line, as
written; `python -m pip install "$SAFESPRING_BLUEPRINTS_FROM"` into a fresh virtual
environment per job, from a wheel of this package built once here; terraform 1.11.4;
`safespring-blueprints validate`, `scan`, `report` and `show-plan`; `terraform init` and
`plan` in the plan and apply jobs.

Stubbed, and why:
- The CI's own machinery: GitHub's actions (`uses:`) are played by the harness (checkout = a
  fresh copy; setup-python and setup-terraform = the machine's python and terraform, whose
  version is compared with the pin; upload/download-artifact and upload-sarif = a directory
  per artifact, with what is uploaded checked), as are GitLab's image, artifacts and manual
  gate, and the event (`workflow_dispatch`, so apply runs). They are GitHub's and GitLab's,
  not steps of ours.
- Where Terraform installs providers from: TF_CLI_CONFIG_FILE names the offline mirror (aws
  from the machine, the schema-only OpenStack provider) instead of the registry, because
  this machine has no internet. The commands do not change; on a runner they fetch the real
  providers. GitLab's terraform download branch is skipped because terraform is present.
- The state backend: the plan and apply jobs get `ssb_backend_override.tf` (local state):
  the S3 backend needs Safespring Storage.
- `terraform apply` is recorded instead of run (a `terraform` wrapper on PATH): it needs the
  real cloud. Everything before it runs, including the check that the plan is the reviewed one.
- Secrets and variables are placeholders; dependencies of the package come from the test
  environment (a .pth file), so pip downloads nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import yaml

from generator.terraform.offline import Toolchain, prepare
from generator.terraform.review import FORMAT, REDACTED
from tests.conftest import ROOT, TODAY_EPOCH

EXAMPLE = "minimal"
SPEC = yaml.safe_load((ROOT / "blueprints" / f"{EXAMPLE}.yaml").read_text("utf-8"))
DIRECTORY = f"blueprints/{SPEC['name']}"  # where the templates expect the blueprint
LOCAL_STATE_JOBS = ("plan", "apply")  # jobs whose name ends so get the local-backend stub
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
TERRAFORM_STUB = """#!/bin/sh
# Test stub: every terraform command runs for real except apply, which needs the real cloud.
sub=
for arg in "$@"; do
  case "$arg" in -*) ;; *) sub=$arg; break ;; esac
done
if [ "$sub" = apply ]; then
  for arg in "$@"; do last=$arg; done
  [ -f "$last" ] || { echo "terraform apply (stub): no plan file $last" >&2; exit 1; }
  printf '%s|%s\\n' "$PWD" "$*" >> "$SSB_TEST_APPLY_LOG"
  exit 0
fi
exec "$SSB_REAL_TERRAFORM" "$@"
"""


@dataclass
class Run:
    """What a pipeline run left behind."""

    jobs: dict[str, bool] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    artifacts: dict[str, Path] = field(default_factory=dict)
    sarif: list[Path] = field(default_factory=list)
    junit: list[Path] = field(default_factory=list)
    workspaces: dict[str, Path] = field(default_factory=dict)

    def failed(self) -> str:
        return "\n".join(self.logs)[-6000:]


class Harness:
    """One pipeline's jobs on this machine; see the module docstring for what is stubbed."""

    def __init__(self, root: Path, wheel: Path, toolchain: Toolchain) -> None:
        self.root = root
        self.repo = root / "repo"
        (self.repo / "blueprints").mkdir(parents=True)
        shutil.copytree(ROOT / "blueprints" / EXAMPLE, self.repo / DIRECTORY,
                        ignore=shutil.ignore_patterns(".terraform*"))
        shutil.copy(ROOT / "blueprints" / f"{EXAMPLE}.yaml", self.repo / "blueprints")
        self.stub = root / "stub-bin"
        self.stub.mkdir()
        (self.stub / "terraform").write_text(TERRAFORM_STUB)
        (self.stub / "terraform").chmod(0o755)
        self.applied = root / "applied.log"
        self.toolchain = toolchain
        self.wheel = wheel
        self.clouds = root / "clouds.yaml"
        self.clouds.write_text("clouds: {}\n")  # placeholder: nothing here reaches a cloud
        self.project = {"SAFESPRING_BLUEPRINTS_FROM": str(wheel), "KEY_PAIR": "ci-test",
                        "CLOUDS_YAML": "clouds: {}\n",
                        "SAFESPRING_S3_ACCESS_KEY": "placeholder",
                        "SAFESPRING_S3_SECRET_KEY": "placeholder"}

    def checkout(self, job: str) -> Path:
        workspace = self.root / "jobs" / job.replace(":", "-") / "workspace"
        shutil.copytree(self.repo, workspace)
        if job.endswith(LOCAL_STATE_JOBS):
            (workspace / DIRECTORY / "ssb_backend_override.tf").write_text(
                'terraform {\n  backend "local" {}\n}\n')
        return workspace

    def environment(self, job: str) -> dict[str, str]:
        """A runner's environment: a fresh HOME and Python environment per job."""
        base = self.root / "jobs" / job.replace(":", "-")
        venv = base / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        site = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                    "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
        (site / "ssb-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        (base / "home").mkdir()
        return {
            "PATH": f"{venv / 'bin'}:{self.stub}:{os.environ['PATH']}",
            "HOME": str(base / "home"), "LANG": "C.UTF-8",
            "TF_CLI_CONFIG_FILE": self.toolchain.env["TF_CLI_CONFIG_FILE"],
            "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(base / "cache")),
            "SOURCE_DATE_EPOCH": TODAY_EPOCH,  # the suite's date: access and review are dated
            "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "SSB_TEST_APPLY_LOG": str(self.applied),
            "SSB_REAL_TERRAFORM": str(self.toolchain.terraform),
        }

    def shell(self, run: Run, job: str, script: str, cwd: Path, env: dict[str, str]) -> bool:
        path = cwd / f".ssb-step-{len(run.logs)}.sh"
        path.write_text(script + "\n")
        started = time.monotonic()
        proc = subprocess.run([*BASH, str(path)], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=600)
        path.unlink()
        run.logs.append(f"--- {job} $ {script}\n{proc.stdout}{proc.stderr}(exit {proc.returncode}, "
                        f"{time.monotonic() - started:.1f} s)")
        return proc.returncode == 0


# ---- GitHub Actions ---------------------------------------------------------------------------

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def github_value(text: Any, context: dict[str, Any]) -> Any:
    """The expressions the template uses, and nothing else (an unknown one fails the test)."""
    if not isinstance(text, str):
        return text

    def one(match: re.Match[str]) -> str:
        found = re.fullmatch(r"(vars|secrets)\.([A-Za-z_][A-Za-z0-9_]*)", match[1])
        if found:
            return context[found[1]].get(found[2], "")
        if match[1] == "github.event_name":
            return context["event"]
        if match[1] == "inputs.allow_replace":  # a workflow_dispatch input, empty by default
            return context.get("inputs", {}).get("allow_replace", "")
        raise AssertionError(f"the harness does not evaluate ${{{{ {match[1]} }}}}")

    return EXPRESSION.sub(one, text)


def github_condition(text: str | None, context: dict[str, Any], failed: bool) -> bool:
    if text is None:
        return not failed
    expression = EXPRESSION.sub(lambda m: m[1], text).strip()
    if expression == "always()":
        return True
    found = re.fullmatch(r"github\.event_name == '(\w+)'", expression)
    if found:
        return not failed and context["event"] == found[1]
    raise AssertionError(f"the harness does not evaluate the condition {text!r}")


def run_github(harness: Harness, workflow: dict[str, Any]) -> Run:
    run = Run()
    context = {"vars": harness.project, "secrets": harness.project, "event": "workflow_dispatch"}
    defaults = workflow.get("defaults", {}).get("run", {})
    assert defaults.get("shell") == "bash"  # GitHub runs it as bash --noprofile --norc -eo pipefail
    top_env = {k: github_value(v, context) for k, v in (workflow.get("env") or {}).items()}
    for name, job in workflow["jobs"].items():
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        if not all(run.jobs.get(n) for n in needs) or not github_condition(
                job.get("if"), context, failed=False):
            run.jobs[name] = False
            continue
        env = {**harness.environment(name), **top_env}
        workspace = failed = None
        for step in job["steps"]:
            if not github_condition(step.get("if"), context, bool(failed)):
                continue
            with_ = {k: github_value(v, context) for k, v in (step.get("with") or {}).items()}
            if "uses" in step:
                action = step["uses"].split("@")[0]
                if action == "actions/checkout":
                    workspace = harness.checkout(name)
                    run.workspaces[name] = workspace
                elif action == "actions/setup-python":
                    assert with_["python-version"]
                elif action == "hashicorp/setup-terraform":
                    version = subprocess.run([str(harness.toolchain.terraform), "version"],
                                             capture_output=True, text=True).stdout
                    assert f"Terraform v{with_['terraform_version']}" in version
                    assert with_["terraform_wrapper"] is False
                elif action == "actions/upload-artifact":
                    source = workspace / with_["path"]
                    assert source.exists(), f"{name}: nothing at {with_['path']} to upload"
                    target = harness.root / "artifacts" / with_["name"]
                    if source.is_dir():
                        shutil.copytree(source, target)
                    else:
                        target.mkdir(parents=True)
                        shutil.copy(source, target)
                    run.artifacts[with_["name"]] = target
                elif action == "actions/download-artifact":
                    shutil.copytree(run.artifacts[with_["name"]], workspace / with_["path"])
                elif action == "github/codeql-action/upload-sarif":
                    sarif = workspace / with_["sarif_file"]
                    assert sarif.is_file(), f"{name}: no SARIF at {with_['sarif_file']}"
                    run.sarif.append(sarif)
                else:
                    raise AssertionError(f"the harness does not play the action {action}")
                continue
            cwd = workspace / step.get("working-directory", defaults["working-directory"])
            step_env = {**env, **{k: str(github_value(v, context))
                                  for k, v in (step.get("env") or {}).items()}}
            if not harness.shell(run, name, step["run"], cwd, step_env):
                failed = step.get("name", step["run"])
        run.jobs[name] = not failed
    return run


# ---- GitLab CI --------------------------------------------------------------------------------


def expand(value: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: variables.get(m[1], ""), value)


def run_gitlab(harness: Harness, pipeline: dict[str, Any]) -> Run:
    run = Run()
    stored: dict[str, Path] = {}
    project = {**harness.project, "CLOUDS_YAML": str(harness.clouds),  # a variable of type File
               "AWS_ACCESS_KEY_ID": "placeholder", "AWS_SECRET_ACCESS_KEY": "placeholder"}
    jobs = {k: v for k, v in pipeline.items()
            if isinstance(v, dict) and "stage" in v and not k.startswith(".")}
    for stage in pipeline["stages"]:
        for name, job in jobs.items():
            if job["stage"] != stage:
                continue
            if not all(run.jobs.get(n) for n in job.get("needs", [])):
                run.jobs[name] = False
                continue
            workspace = harness.checkout(name)
            run.workspaces[name] = workspace
            earlier = job.get("needs", [n for n in run.jobs])
            for other in earlier:
                if other in stored:
                    shutil.copytree(stored[other], workspace, dirs_exist_ok=True)
            variables = {**project, **{k: str(v) for k, v in pipeline["variables"].items()}}
            variables |= {k: expand(str(v), variables) for k, v in (job.get("variables") or
                                                                   {}).items()}
            env = {**harness.environment(name), **variables}
            script = "\n".join([*job.get("before_script", []), *job["script"]])
            ok = harness.shell(run, name, script, workspace, env)
            run.jobs[name] = ok
            artifacts = job.get("artifacts") or {}
            if artifacts and (ok or artifacts.get("when") == "always"):
                target = harness.root / "artifacts" / name.replace(":", "-")
                for path in artifacts.get("paths", []):
                    source = workspace / path
                    assert source.exists(), f"{name}: artifact path {path} missing"
                    (target / path).parent.mkdir(parents=True, exist_ok=True)
                    copy = shutil.copytree if source.is_dir() else shutil.copy
                    copy(source, target / path)
                for path in (artifacts.get("reports") or {}).values():
                    assert (workspace / path).is_file(), f"{name}: report {path} missing"
                    run.junit.append(workspace / path)
                stored[name] = target
                run.artifacts[name] = target
    return run


# ---- the runs ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this package, built once from a copy of the sources (pip's isolated build
    fetches setuptools from the package index, as any build of the package does)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "examples")
    for part in ("generator", "ssb_guest", "modules"):
        shutil.copytree(ROOT / part, source / part, symlinks=True, ignore=ignore)
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, source / part)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                           str(source), "-w", str(base / "dist")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return next((base / "dist").glob("safespring_blueprints-*.whl"))


@pytest.fixture(scope="module")
def toolchain(tmp_path_factory: pytest.TempPathFactory) -> Toolchain:
    return prepare(tmp_path_factory.mktemp("tf-offline-cache"))


def template(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "blueprints" / EXAMPLE / "ci" / name).read_text("utf-8"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, wheel: Path,
         toolchain: Toolchain) -> dict[str, tuple[Harness, Run]]:
    """Both pipelines, side by side (their jobs wait on subprocesses, so two threads halve the
    wall time on a 2-core runner)."""
    github = Harness(tmp_path_factory.mktemp("github"), wheel, toolchain)
    gitlab = Harness(tmp_path_factory.mktemp("gitlab"), wheel, toolchain)
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(run_github, github, template("github-actions.yml"))
        second = pool.submit(run_gitlab, gitlab, template("gitlab-ci.yml"))
        return {"github": (github, first.result()), "gitlab": (gitlab, second.result())}


@pytest.fixture
def github_run(runs: dict[str, tuple[Harness, Run]]) -> tuple[Harness, Run]:
    return runs["github"]


@pytest.fixture
def gitlab_run(runs: dict[str, tuple[Harness, Run]]) -> tuple[Harness, Run]:
    return runs["gitlab"]


def is_plan_file(path: Path) -> bool:
    """Terraform's saved plans are zip archives holding a `tfplan` entry."""
    if path.suffix == ".tfplan":
        return True
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return "tfplan" in archive.namelist()


def assert_published_safely(harness: Harness, run: Run, plan_artifact: Path) -> None:
    for store in run.artifacts.values():
        for path in store.rglob("*"):
            assert not (path.is_file() and is_plan_file(path)), f"a plan file was uploaded: {path}"
    review = json.loads(plan_artifact.read_text("utf-8"))
    assert review["format"] == FORMAT
    assert review["resource_changes"] and all(rc["actions"] == ["create"]
                                              for rc in review["resource_changes"])
    assert review["variables"]["key_pair"] == "ci-test"
    applied = harness.applied.read_text().splitlines()
    assert len(applied) == 1, applied
    where, args = applied[0].split("|")
    assert where.endswith(DIRECTORY) and args.endswith("apply -input=false plan.tfplan")


def test_github_workflow_runs_as_generated(github_run: tuple[Harness, Run]) -> None:
    harness, run = github_run
    assert run.jobs == {"check": True, "plan": True, "apply": True}, run.failed()
    report = run.artifacts["compliance-report"]
    assert {p.name for p in report.iterdir()} == {"report.html", "report.md", "report.json"}
    assert json.loads((report / "report.json").read_text())["verdict"] == "NO FAILURES FOUND"
    (sarif,) = run.sarif
    assert json.loads(sarif.read_text())["version"] == "2.1.0"
    assert_published_safely(harness, run, run.artifacts["plan-review"] / "plan.json")
    # The plan job deleted its plan file; the apply job's came from its own plan.
    assert not (run.workspaces["plan"] / DIRECTORY / "plan.tfplan").exists()
    assert (run.workspaces["apply"] / DIRECTORY / "plan.tfplan").is_file()
    assert "the plan is the reviewed one (reviewed/plan.json)" in run.failed()


def test_gitlab_pipeline_runs_as_generated(gitlab_run: tuple[Harness, Run]) -> None:
    harness, run = gitlab_run
    name = SPEC["name"]
    assert run.jobs == {f"{name}:check": True, f"{name}:plan": True, f"{name}:apply": True}, (
        run.failed())
    (junit,) = run.junit
    suites = ET.parse(junit).getroot()
    assert suites.tag == "testsuites" and suites.get("failures") == "0"
    report = run.artifacts[f"{name}:check"] / DIRECTORY / "compliance"
    assert json.loads((report / "report.json").read_text())["verdict"] == "NO FAILURES FOUND"
    assert_published_safely(harness, run, run.artifacts[f"{name}:plan"] / DIRECTORY / "plan.json")
    assert "the plan is the reviewed one (reviewed/plan.json)" in run.failed()


@pytest.mark.parametrize("name", sorted(p.parent.parent.name for p in
                                        (ROOT / "blueprints").glob("*/ci/github-actions.yml")))
def test_every_committed_template_keeps_the_rules(name: str) -> None:
    """What the run above proves for one example holds in every generated template."""
    for file in ("github-actions.yml", "gitlab-ci.yml"):
        text = (ROOT / "blueprints" / name / "ci" / file).read_text("utf-8")
        doc = yaml.safe_load(text)
        assert "&id" not in text and "*id" not in text  # no YAML anchors
        assert "==0." not in text and "--offline" not in text
        assert "$SAFESPRING_BLUEPRINTS_FROM" in text
        assert not [p for p in uploads(doc) if "tfplan" in p], (file, uploads(doc))


def uploads(doc: dict[str, Any]) -> list[str]:
    """Every path a template uploads as an artifact (GitHub) or keeps as one (GitLab)."""
    found = [step["with"]["path"] for job in (doc.get("jobs") or {}).values()
             for step in job["steps"] if step.get("uses", "").startswith("actions/upload-artifact")]
    for job in doc.values():
        if isinstance(job, dict) and "artifacts" in job:
            found += job["artifacts"].get("paths", [])
            found += list((job["artifacts"].get("reports") or {}).values())
    return found


def test_without_the_install_variable_the_step_says_what_to_set(tmp_path: Path) -> None:
    step = next(s for s in template("github-actions.yml")["jobs"]["check"]["steps"]
                if s.get("name") == "Install safespring-blueprints")
    proc = subprocess.run([*BASH, "-c", step["run"]], cwd=tmp_path, capture_output=True,
                          text=True, env={"PATH": os.environ["PATH"],
                                          "SAFESPRING_BLUEPRINTS_FROM": ""})
    assert proc.returncode != 0
    assert "set the CI variable SAFESPRING_BLUEPRINTS_FROM to what pip installs" in proc.stderr


# ---- show-plan: the redaction the templates rely on -------------------------------------------

SECRET = "s3cr3t-value-that-must-not-leak"
SENSITIVE = """
variable "token" {
  type      = string
  sensitive = true
}
variable "plain" {
  type    = string
  default = "visible"
}
resource "terraform_data" "x" {
  input = {
    token  = var.token
    name   = var.plain
    joined = "prefix-${var.token}"
    leaked = nonsensitive(var.token) # unmarked on purpose: caught by value
  }
}
output "secret" {
  value     = var.token
  sensitive = true
}
"""


def test_show_plan_publishes_no_sensitive_value(tmp_path: Path, terraform_env: dict) -> None:
    """A real plan with a sensitive variable, attribute and output: `terraform show -json`
    prints the secret; `show-plan` does not, and `--same-as` tells the plans apart."""
    from tests.conftest import run_cli

    (tmp_path / "main.tf").write_text(SENSITIVE)
    env = {**terraform_env, "TF_VAR_token": SECRET}

    def tf(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["terraform", f"-chdir={tmp_path}", *args], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc

    tf("init", "-input=false")
    tf("plan", "-input=false", "-out=plan.tfplan")
    assert SECRET in tf("show", "-json", "plan.tfplan").stdout  # why the file is never published

    cli_env = {"TF_VAR_token": SECRET, "TF_CLI_CONFIG_FILE": terraform_env["TF_CLI_CONFIG_FILE"]}
    done = run_cli("show-plan", str(tmp_path), str(tmp_path / "plan.tfplan"),
                   "-o", str(tmp_path / "plan.json"), env=cli_env)
    assert done.code == 0, done.err
    text = (tmp_path / "plan.json").read_text()
    assert SECRET not in text
    doc = json.loads(text)
    after = doc["resource_changes"][0]["after"]["input"]
    assert after == {"token": REDACTED, "name": "visible", "joined": REDACTED, "leaked": REDACTED}
    assert doc["variables"] == {"plain": "visible", "token": REDACTED}
    assert doc["output_changes"]["secret"]["after"] == REDACTED
    assert "1 to create" in done.err
    # `plan -o` writes the whole plan for `scan FILE`: scannable, and just as free of the secret.
    planned = run_cli("plan", str(tmp_path), "-o", str(tmp_path / "whole.json"), env=cli_env)
    assert planned.code == 0, planned.err
    whole = (tmp_path / "whole.json").read_text()
    assert SECRET not in whole and "planned_values" in json.loads(whole)

    same = run_cli("show-plan", str(tmp_path), str(tmp_path / "plan.tfplan"),
                   "--same-as", str(tmp_path / "plan.json"), env=cli_env)
    assert same.code == 0 and "the plan is the reviewed one" in same.err
    # Applied, the secret is in the state too; the next plan's before-values stay redacted.
    tf("apply", "-input=false", "plan.tfplan")
    env["TF_VAR_plain"] = "changed"
    tf("plan", "-input=false", "-out=plan.tfplan")
    changed = run_cli("show-plan", str(tmp_path), str(tmp_path / "plan.tfplan"),
                      "-o", str(tmp_path / "plan-now.json"),
                      "--same-as", str(tmp_path / "plan.json"), env=cli_env)
    assert changed.code == 1
    assert "differs from the reviewed one" in changed.err and "terraform_data.x" in changed.err
    assert SECRET in tf("show", "-json", "plan.tfplan").stdout
    now = (tmp_path / "plan-now.json").read_text()
    assert SECRET not in now
    assert json.loads(now)["resource_changes"][0]["before"]["input"]["token"] == REDACTED


def test_a_secret_the_provider_does_not_mark_is_caught_through_a_sensitive_output() -> None:
    """Terraform's JSON as documented: an attribute left unmarked (a provider whose schema does
    not flag its secret) still holds the value a sensitive output or the prior state marks."""
    from generator.terraform.review import redact

    secret = "kSg-unmarked-credential-secret"
    plan = {
        "terraform_version": "1.11.4",
        "variables": {"key_pair": {"value": "anna"}},
        "configuration": {"root_module": {"variables": {"key_pair": {}}}},
        "resource_changes": [{
            "address": "module.access.openstack_identity_application_credential_v3.this[\"ci\"]",
            "change": {"actions": ["update"], "before": {"secret": secret, "name": "ci"},
                       "after": {"secret": secret, "name": "ci-2"}, "after_unknown": {},
                       "before_sensitive": {}, "after_sensitive": {}}}],
        "output_changes": {"application_credential_secrets": {
            "actions": ["no-op"], "before": {"ci": secret}, "after": {"ci": secret},
            "before_sensitive": True, "after_sensitive": True, "after_unknown": False}},
        "prior_state": {"values": {"outputs": {"application_credential_secrets": {
            "sensitive": True, "value": {"ci": secret}}}, "root_module": {}}},
    }
    doc = redact(plan)
    assert secret not in json.dumps(doc)
    change = doc["resource_changes"][0]
    assert change["before"] == {"secret": REDACTED, "name": "ci"}
    assert change["after"] == {"secret": REDACTED, "name": "ci-2"}
    assert doc["output_changes"]["application_credential_secrets"]["after"] == REDACTED
    assert doc["variables"] == {"key_pair": "anna"}
    # What `plan -o` writes: the whole plan, the same secret gone from every part of it.
    from generator.terraform.review import redact_plan

    whole = redact_plan(plan)
    assert secret not in json.dumps(whole) and whole.keys() == plan.keys()
    assert whole["variables"] == plan["variables"]
