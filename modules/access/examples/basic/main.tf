# A CI deployer credential that works until the end of 31 January 2027 (UTC).
terraform {
  required_version = ">= 1.10"

  required_providers {
    openstack = {
      source  = "terraform-provider-openstack/openstack"
      version = "~> 3.0"
    }
  }
}

# Credentials come from clouds.yaml (application credential), never from this file.
provider "openstack" {
  cloud = "safespring-sto2"
}

module "access" {
  source      = "../.."
  name_prefix = "patient-portal"
  application_credentials = {
    ci-deployer = {
      role    = "member"
      expires = "2027-01-31"
    }
  }
}

output "ci_deployer_id" {
  value = module.access.ids["ci-deployer"]
}
