"""CI templates generated into each blueprint: GitHub Actions and GitLab CI.

The pipeline is the user's day in CI: validate with the real providers, scan with the GDPR
pack (SARIF into the code-scanning view), write the compliance report, plan, and apply only by
a person's explicit approval. Built as data and dumped with a YAML emitter, so no spec value
is ever pasted into YAML text.

Two rules shape the plan and apply jobs. A plan file holds sensitive values in clear (the
application credentials' secrets, sensitive variables), so it is never uploaded: the plan job
publishes `safespring-blueprints show-plan`'s redacted document for review, and the apply job
plans again and applies only if that plan's document equals the reviewed one and deletes or
replaces no volume, bucket or instance that the run does not allow by address (show-plan
--same-as; the record of allowances is kept as an artifact). And the tool is
installed from where the CI variable SAFESPRING_BLUEPRINTS_FROM says (a wheel, a git URL, a
requirement on your own index): it is on no public index.

tests/test_ci_templates.py runs every step of both templates.
"""

from __future__ import annotations

from typing import Any

import yaml

from generator import __version__
from generator.allow import ALLOW_ENV
from generator.record import RECORD_FILE
from generator.spec.model import Spec

TERRAFORM_VERSION = "1.11.4"
ALLOW = ALLOW_ENV
FROM = "SAFESPRING_BLUEPRINTS_FROM"
INSTALL = "\n".join([
    f': "${{{FROM}:?set the CI variable {FROM} to what pip installs safespring-blueprints '
    f'{__version__} from: a wheel URL or path, git+https://...@<tag>, or a requirement on your '
    'own index}"',
    f'python -m pip install --quiet "${FROM}"',
    "safespring-blueprints --version",
])
CREDENTIALS = "\n".join([
    "umask 077",
    "mkdir -p ~/.config/openstack",
    "printf '%s' \"$CLOUDS_YAML\" > ~/.config/openstack/clouds.yaml",
])
# GitLab cannot mask a multi-line value: there CLOUDS_YAML is a variable of type File (a path).
CREDENTIALS_FILE = "\n".join([
    "umask 077",
    "mkdir -p ~/.config/openstack",
    'cp "$CLOUDS_YAML" ~/.config/openstack/clouds.yaml',
])
PLAN = "\n".join([
    "terraform init -input=false",
    "terraform plan -input=false -out=plan.tfplan",
    "safespring-blueprints show-plan . plan.tfplan -o plan.json",
    "rm -f plan.tfplan",
])
APPLY = "\n".join([
    "terraform init -input=false",
    "terraform plan -input=false -out=plan.tfplan",
    "safespring-blueprints show-plan . plan.tfplan -o plan-now.json --same-as reviewed/plan.json",
    "terraform apply -input=false plan.tfplan && applied=0 || applied=$?",
    'safespring-blueprints record-outcome . --exit-code "$applied"',
    'exit "$applied"',
])


class _Dumper(yaml.CSafeDumper):
    """No anchors or aliases (not every CI reads them) and multi-line scripts as blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value,
                                   style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str)


def _dump(header: str, body: dict[str, Any]) -> bytes:
    text = yaml.dump(body, Dumper=_Dumper, sort_keys=False, width=100,
                     default_flow_style=False)
    return (header + text).encode("utf-8")


def github(spec: Spec, directory: str) -> bytes:
    """A workflow for `.github/workflows/` (copy it there; `directory` is the blueprint path)."""
    setup = [
        {"uses": "actions/checkout@v4"},
        {"uses": "actions/setup-python@v5", "with": {"python-version": "3.12"}},
        {"uses": "hashicorp/setup-terraform@v3", "with": {"terraform_version": TERRAFORM_VERSION,
                                                           "terraform_wrapper": False}},
        {"name": "Install safespring-blueprints", "run": INSTALL},
    ]
    credentials = {
        "name": "Credentials (individual, expiring; stored as repository secrets)",
        "run": CREDENTIALS,
        "env": {"CLOUDS_YAML": "${{ secrets.CLOUDS_YAML }}"},
    }
    cloud = {"AWS_ACCESS_KEY_ID": "${{ secrets.SAFESPRING_S3_ACCESS_KEY }}",
             "AWS_SECRET_ACCESS_KEY": "${{ secrets.SAFESPRING_S3_SECRET_KEY }}",
             "TF_VAR_key_pair": "${{ vars.KEY_PAIR }}"}
    body: dict[str, Any] = {
        "name": f"blueprint {spec.name}",
        "on": {"push": {"paths": [f"{directory}/**"]},
               "pull_request": {"paths": [f"{directory}/**"]},
               "workflow_dispatch": {"inputs": {"allow_replace": {
                   "description": "Addresses the apply may delete or replace (space-separated; "
                                  "back them up first). Empty: a plan that deletes or replaces "
                                  "a volume, bucket or instance is refused.",
                   "required": False, "type": "string", "default": ""}}}},
        "permissions": {"contents": "read"},
        "env": {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1",
                FROM: f"${{{{ vars.{FROM} }}}}"},
        "defaults": {"run": {"shell": "bash", "working-directory": directory}},
        "jobs": {
            "check": {
                "runs-on": "ubuntu-latest",
                "permissions": {"contents": "read", "security-events": "write"},
                "steps": [
                    *setup,
                    {"name": "Validate (terraform fmt -check, init with the real providers, "
                             "validate)",
                     "run": "safespring-blueprints validate ."},
                    {"name": "GDPR scan", "run": "safespring-blueprints scan . --format sarif "
                                                 "-o gdpr.sarif || echo FAILED > scan.failed"},
                    {"name": "Upload SARIF", "if": "always()",
                     "uses": "github/codeql-action/upload-sarif@v3",
                     "with": {"sarif_file": f"{directory}/gdpr.sarif",
                              "category": "safespring-blueprints"}},
                    {"name": "Compliance report",
                     "run": "safespring-blueprints report . -o compliance "
                            "|| echo FAILED > report.failed"},
                    {"uses": "actions/upload-artifact@v4", "if": "always()",
                     "with": {"name": "compliance-report", "path": f"{directory}/compliance"}},
                    {"name": "Fail on findings or a FAIL verdict",
                     "run": "test ! -e scan.failed && test ! -e report.failed"},
                ],
            },
            "plan": {
                "needs": "check", "runs-on": "ubuntu-latest",
                "steps": [*setup, credentials,
                          {"name": "Plan; publish it with every sensitive value redacted",
                           "env": cloud, "run": PLAN},
                          {"name": "Upload the plan for review (never the plan file)",
                           "uses": "actions/upload-artifact@v4",
                           "with": {"name": "plan-review", "path": f"{directory}/plan.json"}}],
            },
            "apply": {
                "needs": "plan", "runs-on": "ubuntu-latest",
                "if": "github.event_name == 'workflow_dispatch'",
                # The environment's required reviewers are the manual approval.
                "environment": "production",
                "steps": [*setup, credentials,
                          {"uses": "actions/download-artifact@v4",
                           "with": {"name": "plan-review", "path": f"{directory}/reviewed"}},
                          {"name": "Plan again; apply only if it is the reviewed plan",
                           "env": {**cloud, ALLOW: "${{ inputs.allow_replace }}"}, "run": APPLY},
                          {"name": "Keep the record of allowed data loss",
                           "if": "always()", "uses": "actions/upload-artifact@v4",
                           "with": {"name": "allowed-replacements",
                                    "path": f"{directory}/{RECORD_FILE}"}}],
            },
        },
    }
    header = (f"# GitHub Actions for blueprint {spec.name} (safespring-blueprints {__version__}).\n"
              "# Copy to .github/workflows/ in your repository. Repository variables:\n"
              f"# {FROM} (what pip installs the tool from), KEY_PAIR. Secrets: CLOUDS_YAML,\n"
              "# SAFESPRING_S3_ACCESS_KEY, SAFESPRING_S3_SECRET_KEY. An environment 'production'\n"
              "# with required reviewers gates apply. No plan file is ever uploaded: the plan\n"
              "# job publishes plan.json with sensitive values redacted, and apply plans again\n"
              "# and applies only if the plan is the one reviewed. A plan that deletes or\n"
              "# replaces a volume, bucket or instance is refused unless the run's input\n"
              "# allow_replace names each address; allowances are kept as an artifact.\n")
    return _dump(header, body)


def gitlab(spec: Spec, directory: str) -> bytes:
    """A pipeline to `include:` from .gitlab-ci.yml."""
    image = {"name": "python:3.12-slim"}
    terraform = "\n".join([
        "if ! command -v terraform >/dev/null 2>&1; then",
        "  apt-get update -qq && apt-get install -y -qq curl unzip >/dev/null",
        '  curl -fsSLo /tmp/terraform.zip "https://releases.hashicorp.com/terraform/'
        '${TERRAFORM_VERSION}/terraform_${TERRAFORM_VERSION}_linux_amd64.zip"',
        "  unzip -q /tmp/terraform.zip -d /usr/local/bin",
        "fi",
        "terraform version",
    ])
    before = [terraform, INSTALL, f"cd {directory}"]
    cloud = {"TF_VAR_key_pair": "$KEY_PAIR"}
    body: dict[str, Any] = {
        "stages": ["check", "plan", "apply"],
        "variables": {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1",
                      "TERRAFORM_VERSION": TERRAFORM_VERSION},
        f"{spec.name}:check": {
            "stage": "check", "image": image, "before_script": before,
            "script": ["safespring-blueprints validate .",
                       "safespring-blueprints scan . --format junit -o gdpr.xml "
                       "|| echo FAILED > scan.failed",
                       "safespring-blueprints report . -o compliance "
                       "|| echo FAILED > report.failed",
                       "test ! -e scan.failed && test ! -e report.failed"],
            "artifacts": {"when": "always", "paths": [f"{directory}/compliance"],
                          "reports": {"junit": f"{directory}/gdpr.xml"}},
        },
        f"{spec.name}:plan": {
            "stage": "plan", "image": image, "variables": cloud,
            "before_script": [*before, CREDENTIALS_FILE],
            "script": PLAN.split("\n"),
            # The redacted plan for review; the plan file itself is never an artifact.
            "artifacts": {"paths": [f"{directory}/plan.json"],
                          "expose_as": "plan for review (sensitive values redacted)"},
        },
        f"{spec.name}:apply": {
            "stage": "apply", "image": image, "variables": cloud,
            "needs": [f"{spec.name}:plan"],
            "before_script": [*before, CREDENTIALS_FILE],
            "script": ["mkdir -p reviewed && mv plan.json reviewed/plan.json",
                       *APPLY.split("\n")],
            # Who allowed which deletion, and when (show-plan writes it, empty if none).
            "artifacts": {"when": "always", "paths": [f"{directory}/{RECORD_FILE}"]},
            "when": "manual", "environment": {"name": "production"},
        },
    }
    header = (f"# GitLab CI for blueprint {spec.name} (safespring-blueprints {__version__}).\n"
              "# include: it from .gitlab-ci.yml. CI/CD variables: "
              f"{FROM} (what pip installs\n"
              "# the tool from), KEY_PAIR, CLOUDS_YAML (type File, protected); masked:\n"
              "# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (Safespring Storage keys). Apply is\n"
              "# manual. No plan file is ever an artifact: the plan job publishes plan.json\n"
              "# with sensitive values redacted, and apply plans again and applies only if\n"
              f"# the plan is the one reviewed. A plan that deletes or replaces a volume,\n"
              f"# bucket or instance is refused unless {ALLOW} (set it\n"
              "# when running the manual job) names each address; allowances are an artifact.\n")
    return _dump(header, body)
