# Addresses earlier versions of safespring-blueprints gave these resources. Terraform moves what
# the state holds under an old address to the new one instead of deleting it and creating it
# again; a moved block whose old address is not in the state does nothing. Keep this file.

# ---- instance group web: its own security-group module (earlier generators)

moved {
  from = module.sg_web.openstack_networking_secgroup_v2.this
  to   = module.security_groups.openstack_networking_secgroup_v2.this["web"]
}

moved {
  from = module.sg_web.openstack_networking_secgroup_rule_v2.this["egress-tcp-443-world-ipv4"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["web/egress-tcp-443-world-ipv4"]
}

moved {
  from = module.sg_web.openstack_networking_secgroup_rule_v2.this["egress-tcp-443-world-ipv6"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["web/egress-tcp-443-world-ipv6"]
}

moved {
  from = module.sg_web.openstack_networking_secgroup_rule_v2.this["egress-tcp-80-world-ipv4"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["web/egress-tcp-80-world-ipv4"]
}

moved {
  from = module.sg_web.openstack_networking_secgroup_rule_v2.this["egress-tcp-80-world-ipv6"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["web/egress-tcp-80-world-ipv6"]
}

moved {
  from = module.sg_web.openstack_networking_secgroup_rule_v2.this["egress-udp-123-world-ipv4"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["web/egress-udp-123-world-ipv4"]
}

moved {
  from = module.sg_web.openstack_networking_secgroup_rule_v2.this["egress-udp-123-world-ipv6"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["web/egress-udp-123-world-ipv6"]
}

moved {
  from = module.sg_web.openstack_networking_secgroup_rule_v2.this["egress-udp-53-world-ipv4"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["web/egress-udp-53-world-ipv4"]
}

moved {
  from = module.sg_web.openstack_networking_secgroup_rule_v2.this["egress-udp-53-world-ipv6"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["web/egress-udp-53-world-ipv6"]
}

moved {
  from = module.sg_web.openstack_networking_secgroup_rule_v2.this["ingress-ssh-192.0.2.0/24"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["web/ingress-ssh-192.0.2.0/24"]
}

moved {
  from = module.sg_web.openstack_networking_secgroup_rule_v2.this["ingress-tcp-443-world-ipv4"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["web/ingress-tcp-443-world-ipv4"]
}

moved {
  from = module.sg_web.openstack_networking_secgroup_rule_v2.this["ingress-tcp-443-world-ipv6"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["web/ingress-tcp-443-world-ipv6"]
}

# ---- instance group db: its own security-group module (earlier generators)

moved {
  from = module.sg_db.openstack_networking_secgroup_v2.this
  to   = module.security_groups.openstack_networking_secgroup_v2.this["db"]
}

moved {
  from = module.sg_db.openstack_networking_secgroup_rule_v2.this["egress-tcp-80-metadata-ipv4"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["db/egress-tcp-80-metadata-ipv4"]
}

moved {
  from = module.sg_db.openstack_networking_secgroup_rule_v2.this["ingress-ssh-192.0.2.0/24"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["db/ingress-ssh-192.0.2.0/24"]
}

# ---- instance group log-collector: its own security-group module (earlier generators)

moved {
  from = module.sg_log-collector.openstack_networking_secgroup_v2.this
  to   = module.security_groups.openstack_networking_secgroup_v2.this["log-collector"]
}

moved {
  from = module.sg_log-collector.openstack_networking_secgroup_rule_v2.this["egress-tcp-443-world-ipv4"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["log-collector/egress-tcp-443-world-ipv4"]
}

moved {
  from = module.sg_log-collector.openstack_networking_secgroup_rule_v2.this["egress-tcp-443-world-ipv6"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["log-collector/egress-tcp-443-world-ipv6"]
}

moved {
  from = module.sg_log-collector.openstack_networking_secgroup_rule_v2.this["egress-tcp-80-world-ipv4"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["log-collector/egress-tcp-80-world-ipv4"]
}

moved {
  from = module.sg_log-collector.openstack_networking_secgroup_rule_v2.this["egress-tcp-80-world-ipv6"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["log-collector/egress-tcp-80-world-ipv6"]
}

moved {
  from = module.sg_log-collector.openstack_networking_secgroup_rule_v2.this["egress-udp-123-world-ipv4"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["log-collector/egress-udp-123-world-ipv4"]
}

moved {
  from = module.sg_log-collector.openstack_networking_secgroup_rule_v2.this["egress-udp-123-world-ipv6"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["log-collector/egress-udp-123-world-ipv6"]
}

moved {
  from = module.sg_log-collector.openstack_networking_secgroup_rule_v2.this["egress-udp-53-world-ipv4"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["log-collector/egress-udp-53-world-ipv4"]
}

moved {
  from = module.sg_log-collector.openstack_networking_secgroup_rule_v2.this["egress-udp-53-world-ipv6"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["log-collector/egress-udp-53-world-ipv6"]
}

moved {
  from = module.sg_log-collector.openstack_networking_secgroup_rule_v2.this["ingress-ssh-192.0.2.0/24"]
  to   = module.security_groups.openstack_networking_secgroup_rule_v2.cidr["log-collector/ingress-ssh-192.0.2.0/24"]
}
