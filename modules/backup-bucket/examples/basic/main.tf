# The backup bucket of a deployment running in sto1: it lives in sto2 (another site), keeps every
# object version write-once for 14 days (COMPLIANCE) and lets restic's deletions expire 30 days
# later.
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
  # Safespring Storage on the BACKUP site: a fixed endpoint, path-style addressing, and no STS,
  # IAM or EC2 metadata to consult. The region is a placeholder the SDK requires.
  alias                       = "backup_site"
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

  providers = {
    aws = aws.backup_site
  }

  name                      = "example-backups"
  lock_days                 = 14
  noncurrent_retention_days = 30
  classification            = "personal"

  tags = {
    ssb_deployment = "example"
  }
}

output "bucket_name" {
  description = "Name of the backup bucket (goes into the instances' backup configuration)."
  value       = module.backups.name
}

output "bucket_measures" {
  description = "Measures the bucket implements (its ssb_measures tag)."
  value       = module.backups.measures
}
