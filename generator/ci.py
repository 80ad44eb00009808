"""CI templates generated into each blueprint: GitHub Actions and GitLab CI.

The pipeline is the user's day in CI: format, validate, scan with the GDPR pack (SARIF into
the code-scanning view), plan, and apply only by a person's explicit approval. Built as data
and dumped with a YAML emitter, so no spec value is ever pasted into YAML text.
"""

from __future__ import annotations

from typing import Any

import yaml

from generator import __version__
from generator.spec.model import Spec

INSTALL = f"pip install 'safespring-blueprints=={__version__}'"


def _dump(header: str, body: dict[str, Any]) -> bytes:
    text = yaml.dump(body, Dumper=yaml.CSafeDumper, sort_keys=False, width=100,
                     default_flow_style=False)
    return (header + text).encode("utf-8")


def github(spec: Spec, directory: str) -> bytes:
    """A workflow for `.github/workflows/` (copy it there; `directory` is the blueprint path)."""
    env = {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    setup = [
        {"uses": "actions/checkout@v4"},
        {"uses": "actions/setup-python@v5", "with": {"python-version": "3.12"}},
        {"uses": "hashicorp/setup-terraform@v3", "with": {"terraform_version": "1.11.4",
                                                           "terraform_wrapper": False}},
        {"run": INSTALL},
    ]
    credentials = {
        "name": "Credentials (individual, expiring; stored as repository secrets)",
        "run": "mkdir -p ~/.config/openstack && printf '%s' \"$CLOUDS_YAML\" > "
               "~/.config/openstack/clouds.yaml",
        "env": {"CLOUDS_YAML": "${{ secrets.CLOUDS_YAML }}"},
    }
    aws = {"AWS_ACCESS_KEY_ID": "${{ secrets.SAFESPRING_S3_ACCESS_KEY }}",
           "AWS_SECRET_ACCESS_KEY": "${{ secrets.SAFESPRING_S3_SECRET_KEY }}"}
    body: dict[str, Any] = {
        "name": f"blueprint {spec.name}",
        "on": {"push": {"paths": [f"{directory}/**"]},
               "pull_request": {"paths": [f"{directory}/**"]},
               "workflow_dispatch": {}},
        "permissions": {"contents": "read", "security-events": "write"},
        "env": env,
        "defaults": {"run": {"working-directory": directory}},
        "jobs": {
            "check": {
                "runs-on": "ubuntu-latest",
                "steps": [
                    *setup,
                    {"name": "Format", "run": "terraform fmt -check -recursive"},
                    {"name": "Validate (offline, against the provider schemas)",
                     "run": "safespring-blueprints validate . --offline"},
                    {"name": "GDPR scan", "run": "safespring-blueprints scan . --format sarif "
                                                 "-o gdpr.sarif || echo FAILED > scan.failed"},
                    {"name": "Upload SARIF", "if": "always()",
                     "uses": "github/codeql-action/upload-sarif@v3",
                     "with": {"sarif_file": f"{directory}/gdpr.sarif",
                              "category": "safespring-blueprints"}},
                    {"name": "Compliance report",
                     "run": "safespring-blueprints report . -o compliance"},
                    {"uses": "actions/upload-artifact@v4", "if": "always()",
                     "with": {"name": "compliance-report", "path": f"{directory}/compliance"}},
                    {"name": "Fail on findings", "run": "test ! -e scan.failed"},
                ],
            },
            "plan": {
                "needs": "check", "runs-on": "ubuntu-latest",
                "steps": [*setup, credentials,
                          {"name": "Plan", "env": aws,
                           "run": "terraform init -input=false && terraform plan -input=false "
                                  "-var key_pair=${{ vars.KEY_PAIR }} -out plan.tfplan"},
                          {"uses": "actions/upload-artifact@v4",
                           "with": {"name": "plan", "path": f"{directory}/plan.tfplan"}}],
            },
            "apply": {
                "needs": "plan", "runs-on": "ubuntu-latest",
                "if": "github.event_name == 'workflow_dispatch'",
                # The environment's required reviewers are the manual approval.
                "environment": "production",
                "steps": [*setup, credentials,
                          {"uses": "actions/download-artifact@v4",
                           "with": {"name": "plan", "path": directory}},
                          {"name": "Apply the reviewed plan", "env": aws,
                           "run": "terraform init -input=false && terraform apply -input=false "
                                  "plan.tfplan"}],
            },
        },
    }
    header = (f"# GitHub Actions for blueprint {spec.name} (safespring-blueprints {__version__}).\n"
              "# Copy to .github/workflows/ in your repository. Secrets: CLOUDS_YAML,\n"
              "# SAFESPRING_S3_ACCESS_KEY, SAFESPRING_S3_SECRET_KEY; variable KEY_PAIR; an\n"
              "# environment 'production' with required reviewers gates apply.\n")
    return _dump(header, body)


def gitlab(spec: Spec, directory: str) -> bytes:
    """A pipeline to `include:` from .gitlab-ci.yml."""
    image = {"name": "python:3.12-slim"}
    before = ["apt-get update -qq && apt-get install -y -qq curl unzip >/dev/null",
              "curl -fsSLo /tmp/tf.zip https://releases.hashicorp.com/terraform/1.11.4/"
              "terraform_1.11.4_linux_amd64.zip && unzip -q /tmp/tf.zip -d /usr/local/bin",
              INSTALL, f"cd {directory}"]
    credentials = ["mkdir -p ~/.config/openstack",
                   'printf "%s" "$CLOUDS_YAML" > ~/.config/openstack/clouds.yaml']
    body: dict[str, Any] = {
        "stages": ["check", "plan", "apply"],
        "variables": {"TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"},
        f"{spec.name}:check": {
            "stage": "check", "image": image, "before_script": before,
            "script": ["terraform fmt -check -recursive",
                       "safespring-blueprints validate . --offline",
                       "safespring-blueprints report . -o compliance",
                       "safespring-blueprints scan . --format sarif -o gdpr.sarif",
                       "safespring-blueprints scan . --format junit -o gdpr.xml"],
            "artifacts": {"when": "always",
                          "paths": [f"{directory}/gdpr.sarif", f"{directory}/compliance"],
                          "reports": {"junit": f"{directory}/gdpr.xml"}},
        },
        f"{spec.name}:plan": {
            "stage": "plan", "image": image, "before_script": before + credentials,
            "script": ["terraform init -input=false",
                       "terraform plan -input=false -var key_pair=$KEY_PAIR -out plan.tfplan"],
            "artifacts": {"paths": [f"{directory}/plan.tfplan"]},
        },
        f"{spec.name}:apply": {
            "stage": "apply", "image": image, "before_script": before + credentials,
            "script": ["terraform init -input=false", "terraform apply -input=false plan.tfplan"],
            "when": "manual", "environment": {"name": "production"},
        },
    }
    header = (f"# GitLab CI for blueprint {spec.name} (safespring-blueprints {__version__}).\n"
              "# include: it from .gitlab-ci.yml. Masked variables: CLOUDS_YAML, AWS_ACCESS_KEY_ID,\n"
              "# AWS_SECRET_ACCESS_KEY (Safespring Storage keys), KEY_PAIR. Apply is manual.\n")
    return _dump(header, body)
