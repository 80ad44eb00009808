# Provider 1.x/2.x: openstack_compute_secgroup_v2 and openstack_blockstorage_volume_v2 left the
# provider in 3.0, the schema offline planning serves; their plan is the one test_legacy.py
# writes as Terraform shows a 2.x plan.
terraform {
  required_providers {
    openstack = {
      source  = "terraform-provider-openstack/openstack"
      version = "~> 2.1"
    }
  }
}

provider "openstack" {
  cloud = "safespring-sto1"
}
