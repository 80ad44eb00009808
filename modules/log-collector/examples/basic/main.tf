# A log collector for a deployment with personal data: encrypted log volume, TLS receiver.
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

module "log_volume" {
  source = "../../../volume"

  name           = "patient-portal-log-collector-logs"
  size           = 50
  volume_type    = "fast"
  instance_count = 1
  encryption     = "luks-tang"
}

module "log_collector" {
  source = "../.."

  name                 = "patient-portal-log-collector"
  key_pair             = "patient-portal-admin"
  security_group_names = ["patient-portal-log-collector"]
  log_volume_ids       = module.log_volume.ids
  metadata = {
    ssb_classification = "personal"
  }
}

output "collector_address" {
  value = module.log_collector.address
}
