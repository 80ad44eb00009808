variable "name" {
  type = string
}

variable "peer" {
  type = string
}

resource "openstack_networking_secgroup_v2" "this" {
  name                 = var.name
  delete_default_rules = true
}

resource "openstack_networking_secgroup_rule_v2" "this" {
  count             = 1
  security_group_id = openstack_networking_secgroup_v2.this.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 5432
  port_range_max    = 5432
  remote_group_id   = var.peer
}

output "id" {
  value = openstack_networking_secgroup_v2.this.id
}
