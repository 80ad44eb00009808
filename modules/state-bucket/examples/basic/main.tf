# Create the bucket for a deployment's Terraform state on Safespring Storage in sto2.
#
# This configuration itself keeps its (small) state locally: the state bucket has to exist
# before any backend "s3" can point at it. The backend block for the deployments that use the
# bucket is shown in ../../README.md.
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

module "state" {
  source = "../.."

  name = "tfstate-example"

  tags = {
    ssb_classification = "internal"
    ssb_measures       = "tls-only no-public-access versioning"
  }
}

output "state_bucket" {
  description = "Bucket to name in the deployments' backend \"s3\" block."
  value       = module.state.name
}
