# Addresses earlier versions of safespring-blueprints gave these resources. Terraform moves what
# the state holds under an old address to the new one instead of deleting it and creating it
# again; a moved block whose old address is not in the state does nothing. Keep this file.

# ---- instance group app: its own security-group module (earlier generators)

moved {
  from = module.sg_app.openstack_networking_secgroup_v2.this
  to   = module.security_groups.openstack_networking_secgroup_v2.this["app"]
}

moved {
  from = module.sg_app.openstack_networking_secgroup_rule_v2.this["egress-tcp-443-world-ipv4"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["app/egress-tcp-443-world-ipv4"]
}

moved {
  from = module.sg_app.openstack_networking_secgroup_rule_v2.this["egress-tcp-443-world-ipv6"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["app/egress-tcp-443-world-ipv6"]
}

moved {
  from = module.sg_app.openstack_networking_secgroup_rule_v2.this["egress-tcp-80-world-ipv4"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["app/egress-tcp-80-world-ipv4"]
}

moved {
  from = module.sg_app.openstack_networking_secgroup_rule_v2.this["egress-tcp-80-world-ipv6"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["app/egress-tcp-80-world-ipv6"]
}

moved {
  from = module.sg_app.openstack_networking_secgroup_rule_v2.this["egress-udp-123-world-ipv4"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["app/egress-udp-123-world-ipv4"]
}

moved {
  from = module.sg_app.openstack_networking_secgroup_rule_v2.this["egress-udp-123-world-ipv6"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["app/egress-udp-123-world-ipv6"]
}

moved {
  from = module.sg_app.openstack_networking_secgroup_rule_v2.this["egress-udp-53-world-ipv4"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["app/egress-udp-53-world-ipv4"]
}

moved {
  from = module.sg_app.openstack_networking_secgroup_rule_v2.this["egress-udp-53-world-ipv6"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["app/egress-udp-53-world-ipv6"]
}
