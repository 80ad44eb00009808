"""Terraform tooling: the version every blueprint needs, the CLI layer, the offline provider.

`TERRAFORM_MIN` is the one minimum the project states (versions.tf, the modules, the README,
error messages; a test holds them to it): 1.10, the release that brought the S3 backend's own
lock file (`use_lockfile`), which every blueprint with remote state uses.
"""

TERRAFORM_MIN = "1.10"
TERRAFORM_MISSING = (f"terraform is not on PATH: install Terraform {TERRAFORM_MIN} or newer "
                     "(https://developer.hashicorp.com/terraform/install)")
