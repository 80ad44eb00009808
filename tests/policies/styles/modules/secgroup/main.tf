# A security group from a map of rule maps, each key optional (read with try()).
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

variable "delete_default_rules" {
  type    = bool
  default = false
}

variable "rules" {
  description = "Map of maps describing rules"
  type        = map(map(string))
}

resource "openstack_networking_secgroup_v2" "this" {
  name                 = var.name
  delete_default_rules = var.delete_default_rules
}

resource "openstack_networking_secgroup_rule_v2" "rules" {
  for_each          = var.rules
  direction         = try(each.value.direction, "ingress")
  ethertype         = try(each.value.ethertype, "IPv4")
  protocol          = try(each.value.ip_protocol, null)
  remote_group_id   = try(each.value.remote_group_id, null) == "self" ? openstack_networking_secgroup_v2.this.id : try(each.value.remote_group_id, null)
  port_range_min    = try(each.value.from_port, null)
  port_range_max    = try(each.value.to_port, null)
  remote_ip_prefix  = try(each.value.cidr, null)
  security_group_id = openstack_networking_secgroup_v2.this.id
}

output "name" {
  value = openstack_networking_secgroup_v2.this.name
}
