# The security groups of one deployment, one per instance group, in one module: rules refer to
# other groups of the deployment by key, so no module ever needs another's output (no cycles,
# and scanners can resolve every rule). Every group denies everything not listed: OpenStack
# normally adds "allow all egress" rules to a new group; delete_default_rules removes them.
#
# Rules come in two maps so every attribute is always set and literal: a remote network
# (cidr_rules) or a remote group of this deployment (group_rules). Neither can be empty.

resource "openstack_networking_secgroup_v2" "this" {
  for_each = var.groups

  name                 = "${var.name_prefix}-${each.key}"
  description          = each.value
  delete_default_rules = true
}

resource "openstack_networking_secgroup_rule_v2" "cidr" {
  for_each = var.cidr_rules

  security_group_id = openstack_networking_secgroup_v2.this[each.value.group].id
  description       = each.value.description
  direction         = each.value.direction
  ethertype         = each.value.ethertype
  protocol          = each.value.protocol
  port_range_min    = each.value.port_range_min
  port_range_max    = each.value.port_range_max
  remote_ip_prefix  = each.value.remote_ip_prefix

  lifecycle {
    precondition {
      # Judged by prefix length, not by the string: 0.0.0.0/1 and 128.0.0.0/1 are the world too.
      condition     = !(contains(var.private_groups, each.value.group) && each.value.direction == "egress" && try(tonumber(split("/", each.value.remote_ip_prefix)[1]), 0) < (each.value.ethertype == "IPv6" ? 64 : 24))
      error_message = "Group ${each.value.group} is on the private network and reaches the outside only through the egress proxy: rule ${each.key} would give it egress to ${each.value.remote_ip_prefix}, wider than a /24 (IPv4) or /64 (IPv6)."
    }
  }
}

resource "openstack_networking_secgroup_rule_v2" "group" {
  for_each = var.group_rules

  security_group_id = openstack_networking_secgroup_v2.this[each.value.group].id
  description       = each.value.description
  direction         = each.value.direction
  ethertype         = each.value.ethertype
  protocol          = each.value.protocol
  port_range_min    = each.value.port_range_min
  port_range_max    = each.value.port_range_max
  remote_group_id   = openstack_networking_secgroup_v2.this[each.value.remote_group].id
}
