# Two web instances, each with its own 50 GB data volume that the guest encrypts with LUKS2 and
# unlocks through the customer's Tang servers (see ../../README.md).
#
# The order matters: volumes first, then instances (which carry the volume IDs in metadata),
# then the attachments. Nothing points backwards, so there is no dependency cycle.

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

module "web_data" {
  source = "../.."

  name           = "patient-portal-web-data"
  size           = 50
  volume_type    = "fast"
  instance_count = 2
  encryption     = "luks-tang"

  metadata = {
    ssb_blueprint = "patient-portal"
  }
}

module "web" {
  source = "../../../instance-group"

  name                 = "patient-portal-web"
  instance_count       = 2
  flavor               = "b2.c2r4"
  image_name           = "ubuntu-24.04"
  network              = "default"
  boot_volume_size     = 20
  key_pair             = "patient-portal-admin"
  security_group_names = ["patient-portal-web"]

  volume_ids = {
    data = module.web_data.ids
  }
}

output "data_volume_ids" {
  value = module.web_data.ids
}
