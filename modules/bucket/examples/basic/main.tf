# A bucket on Safespring Storage in sto2 for backups: versioned, TLS-only, never public, objects
# expire after a year and are write-once (GOVERNANCE) for their first 30 days.
#
# Credentials: Safespring S3 access keys come from the environment (AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY) or a shared credentials file profile (AWS_PROFILE); never write them here.

terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 6.0"
    }
  }
}

provider "aws" {
  # Safespring Storage is not AWS: a fixed endpoint, path-style addressing, and no STS, IAM or
  # EC2 metadata to consult. The region is a placeholder the SDK requires.
  region                      = "us-east-1"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {
    s3 = "https://s3.sto2.safedc.net"
  }
}

module "backups" {
  source = "../.."

  name           = "example-backups"
  retention_days = 365

  object_lock = {
    mode = "GOVERNANCE"
    days = 30
  }

  tags = {
    ssb_classification = "personal"
    ssb_measures       = "tls-only no-public-access versioning object-lock lifecycle-expiration"
  }
}

output "bucket_name" {
  description = "Name of the bucket."
  value       = module.backups.name
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = module.backups.arn
}
