# Buckets deleted by a plan: the state (tests/policies/test_data_at_risk.py writes it) holds a
# backup bucket and a state bucket; this configuration no longer has them.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  endpoints {
    s3 = "http://127.0.0.1:9"
  }
}
