# Two instance groups: web answers TLS from the world and reaches db on 5432; db accepts only
# that. SSH only from an admin network. Everything else is denied, outbound included.
terraform {
  required_version = ">= 1.10"

  required_providers {
    openstack = {
      source  = "terraform-provider-openstack/openstack"
      version = "~> 3.0"
    }
  }
}

# Credentials come from clouds.yaml (application credential), never from this file.
provider "openstack" {
  cloud = "safespring-sto2"
}

module "security_groups" {
  source      = "../.."
  name_prefix = "patient-portal"
  groups = {
    web = "Instance group web: TLS from the world, SSH from admins"
    db  = "Instance group db: PostgreSQL from web only"
  }
  cidr_rules = {
    "web/ingress-tcp-443-world-ipv4" = {
      group            = "web"
      direction        = "ingress"
      ethertype        = "IPv4"
      protocol         = "tcp"
      port_range_min   = 443
      port_range_max   = 443
      remote_ip_prefix = "0.0.0.0/0"
      description      = "TLS endpoint"
    }
    "web/ingress-ssh-192.0.2.0/24" = {
      group            = "web"
      direction        = "ingress"
      ethertype        = "IPv4"
      protocol         = "tcp"
      port_range_min   = 22
      port_range_max   = 22
      remote_ip_prefix = "192.0.2.0/24"
      description      = "SSH from an admin network"
    }
  }
  group_rules = {
    "web/egress-tcp-5432-to-db-ipv4" = {
      group          = "web"
      direction      = "egress"
      ethertype      = "IPv4"
      protocol       = "tcp"
      port_range_min = 5432
      port_range_max = 5432
      remote_group   = "db"
      description    = "to instance group db"
    }
    "db/ingress-tcp-5432-from-web-ipv4" = {
      group          = "db"
      direction      = "ingress"
      ethertype      = "IPv4"
      protocol       = "tcp"
      port_range_min = 5432
      port_range_max = 5432
      remote_group   = "web"
      description    = "from instance group web"
    }
  }
}

output "security_group_names" {
  value = module.security_groups.names
}
