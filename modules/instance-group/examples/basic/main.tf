# Three web instances of a patient portal on b2 flavors (boot volumes on central storage, three
# copies) spread over different hypervisors by an anti-affinity server group, plus one small
# l2 build runner (local disk, single copy, no personal data) to show the other flavor class.

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
  source = "../../../security-groups"

  name_prefix = "patient-portal"
  groups = {
    web = "patient-portal web tier: HTTPS in, SSH from admins"
  }

  cidr_rules = {
    "web/https-in" = {
      group            = "web"
      direction        = "ingress"
      ethertype        = "IPv4"
      protocol         = "tcp"
      port_range_min   = 443
      port_range_max   = 443
      remote_ip_prefix = "0.0.0.0/0"
      description      = "endpoint portal.example.se"
    }
    "web/ssh-admin" = {
      group            = "web"
      direction        = "ingress"
      ethertype        = "IPv4"
      protocol         = "tcp"
      port_range_min   = 22
      port_range_max   = 22
      remote_ip_prefix = "192.0.2.0/24"
      description      = "SSH from the admin network only"
    }
  }
}

module "web" {
  source = "../.."

  name                 = "patient-portal-web"
  instance_count       = 3
  flavor               = "b2.c2r4"
  image_name           = "ubuntu-24.04"
  network              = "default"
  boot_volume_size     = 20
  key_pair             = "patient-portal-admin"
  security_group_names = [module.security_groups.names["web"]]
  user_data            = "#cloud-config\npackage_update: true\npackage_upgrade: true\n"

  metadata = {
    ssb_blueprint = "patient-portal"
  }
}

module "runner" {
  source = "../.."

  name                 = "patient-portal-runner"
  instance_count       = 1
  flavor               = "l2.c2r4.100"
  image_name           = "debian-12"
  network              = "private"
  key_pair             = "patient-portal-admin"
  security_group_names = [module.security_groups.names["web"]]
}

output "web_ipv6" {
  value = module.web.access_ip_v6
}

output "web_server_group_id" {
  value = module.web.server_group_id
}
