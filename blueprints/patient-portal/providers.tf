# The OpenStack provider reads credentials from clouds.yaml (an individual, expiring
# application credential); none are ever written here. See clouds.yaml.example.
provider "openstack" {
  cloud = "safespring-sto2"
}

provider "aws" {
  # Safespring Storage (sto2) is not AWS: a fixed endpoint, path-style
  # addressing, no STS, IAM or EC2 metadata. The region is a placeholder the SDK needs.
  # Keys come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE, never from here.
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

provider "aws" {
  alias = "backup"
  # Safespring Storage (sto1) is not AWS: a fixed endpoint, path-style
  # addressing, no STS, IAM or EC2 metadata. The region is a placeholder the SDK needs.
  # Keys come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE, never from here.
  region                      = "us-east-1"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {
    s3 = "https://s3.sto1.safedc.net"
  }
}
