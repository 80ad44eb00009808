# A security group that denies everything not listed. OpenStack normally adds "allow all
# egress" rules to a new group; delete_default_rules removes them so egress is explicit too.

resource "openstack_networking_secgroup_v2" "this" {
  name                 = var.name
  description          = var.description
  delete_default_rules = true
}

resource "openstack_networking_secgroup_rule_v2" "this" {
  for_each = var.rules

  security_group_id = openstack_networking_secgroup_v2.this.id
  description       = each.value.description
  direction         = each.value.direction
  ethertype         = each.value.ethertype
  protocol          = each.value.protocol
  port_range_min    = each.value.port_range_min
  port_range_max    = each.value.port_range_max
  # Exactly one of the two is set (see the validation in variables.tf); the other stays null,
  # never "", because an empty remote_ip_prefix opens all ports on Safespring. "self" means
  # this group: traffic between the members of one instance group.
  remote_ip_prefix = each.value.remote_ip_prefix
  remote_group_id  = each.value.remote_group_id == "self" ? openstack_networking_secgroup_v2.this.id : each.value.remote_group_id
}
