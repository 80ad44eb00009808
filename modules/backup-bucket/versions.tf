terraform {
  # 1.9 is the first release whose variable validations may refer to other variables
  # (noncurrent_retention_days > lock_days).
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 6.0"
    }
  }
}
