terraform {
  required_providers {
    openstack = {
      source = "terraform-provider-openstack/openstack"
    }
  }
}

variable "name" {
  type = string
}

variable "flavor" {
  type = string
}

variable "image" {
  type = string
}

resource "openstack_compute_instance_v2" "this" {
  name        = var.name
  flavor_name = var.flavor

  block_device {
    uuid                  = "2c1a3ad4-0000-4000-8000-000000000001"
    source_type           = "image"
    destination_type      = "volume"
    boot_index            = 0
    volume_size           = 20
    delete_on_termination = true
  }

  metadata = { image = var.image }
}
