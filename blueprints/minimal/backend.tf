# Remote state on Safespring Storage in sto1, locked with a lock file next
# to it. Create the bucket first: see bootstrap/ and README.md.
terraform {
  backend "s3" {
    bucket                      = "tfstate-hello-safespring"
    key                         = "hello-safespring/terraform.tfstate"
    region                      = "us-east-1"
    use_path_style              = true
    use_lockfile                = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_region_validation      = true
    # Safespring's Ceph RGW rejects the newer SDK's default checksums.
    skip_s3_checksum = true

    endpoints = {
      s3 = "https://s3.sto1.safedc.net"
    }
  }
}
