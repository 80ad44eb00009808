variable "rules" {
  type = map(object({
    port             = number
    remote_ip_prefix = string
  }))
}

resource "openstack_networking_secgroup_v2" "this" {
  name                 = "expanded"
  delete_default_rules = true
}

resource "openstack_networking_secgroup_rule_v2" "this" {
  for_each          = var.rules
  security_group_id = openstack_networking_secgroup_v2.this.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = each.value.port
  port_range_max    = each.value.port
  remote_ip_prefix  = each.value.remote_ip_prefix
}
