# One instance; a boot volume only when disk_size > 0 (dynamic block), as for l2 flavors.
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

variable "disk_size" {
  type    = number
  default = 0
}

variable "servergroup_id" {
  type    = string
  default = ""
}

variable "user_data" {
  type    = string
  default = null
}

resource "openstack_compute_instance_v2" "this" {
  name        = var.name
  flavor_name = var.flavor
  image_name  = "ubuntu-24.04"
  user_data   = var.user_data
  metadata = {
    ssb_classification = "personal"
    ssb_measures       = "local-logs,logins"
  }

  dynamic "scheduler_hints" {
    for_each = var.servergroup_id != "" ? ["one"] : []
    content {
      group = var.servergroup_id
    }
  }

  dynamic "block_device" {
    for_each = var.disk_size > 0 ? ["one"] : []
    content {
      uuid                  = "8f4d3f0c-0000-4000-8000-000000000001"
      source_type           = "image"
      destination_type      = "volume"
      volume_size           = var.disk_size
      boot_index            = 0
      delete_on_termination = true
    }
  }
}
