terraform {
  # The project's one Terraform minimum. This module alone needs 1.9: its variable
  # validations refer to other variables (noncurrent_retention_days > lock_days).
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 6.0"
    }
  }
}
