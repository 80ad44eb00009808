# A security group for the web tier of a patient portal: HTTPS from anywhere, SSH only from
# the admin network, PostgreSQL between the group's own members, and egress limited to HTTPS
# (package mirrors, ACME, Tang) and DNS.

terraform {
  required_version = ">= 1.6"

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

module "web_sg" {
  source = "../.."

  name        = "patient-portal-web"
  description = "patient-portal web tier: HTTPS in, SSH from admins, PostgreSQL within the tier"

  rules = {
    https-in-v4 = {
      direction        = "ingress"
      ethertype        = "IPv4"
      protocol         = "tcp"
      port_range_min   = 443
      port_range_max   = 443
      remote_ip_prefix = "0.0.0.0/0"
      description      = "endpoint portal.example.se (TLS terminated on the instance)"
    }
    https-in-v6 = {
      direction        = "ingress"
      ethertype        = "IPv6"
      protocol         = "tcp"
      port_range_min   = 443
      port_range_max   = 443
      remote_ip_prefix = "::/0"
      description      = "endpoint portal.example.se (TLS terminated on the instance)"
    }
    ssh-admin = {
      direction        = "ingress"
      ethertype        = "IPv4"
      protocol         = "tcp"
      port_range_min   = 22
      port_range_max   = 22
      remote_ip_prefix = "192.0.2.0/24"
      description      = "SSH from the admin network only"
    }
    postgres-in-tier = {
      direction       = "ingress"
      ethertype       = "IPv4"
      protocol        = "tcp"
      port_range_min  = 5432
      port_range_max  = 5432
      remote_group_id = "self"
      description     = "PostgreSQL between the web instances"
    }
    https-out-v4 = {
      direction        = "egress"
      ethertype        = "IPv4"
      protocol         = "tcp"
      port_range_min   = 443
      port_range_max   = 443
      remote_ip_prefix = "0.0.0.0/0"
      description      = "package updates, ACME, Tang servers"
    }
    dns-out-v4 = {
      direction        = "egress"
      ethertype        = "IPv4"
      protocol         = "udp"
      port_range_min   = 53
      port_range_max   = 53
      remote_ip_prefix = "0.0.0.0/0"
      description      = "DNS resolution"
    }
  }
}

output "security_group_name" {
  value = module.web_sg.name
}
