# A rule towards a remote group a conditional local chooses (the module's own group, or one the
# caller passes), with a protocol and no ports; and an instance whose user data installs
# packages and gives nobody a login.
provider "openstack" {
  cloud = "safespring-sto1"
}

variable "cluster_group_id" {
  type    = string
  default = ""
}

resource "openstack_networking_secgroup_v2" "cluster" {
  count                = var.cluster_group_id == "" ? 1 : 0
  name                 = "cluster"
  delete_default_rules = true
}

locals {
  cluster_group_id = var.cluster_group_id == "" ? openstack_networking_secgroup_v2.cluster[0].id : var.cluster_group_id
}

resource "openstack_networking_secgroup_v2" "nodes" {
  name                 = "nodes"
  delete_default_rules = true
}

resource "openstack_networking_secgroup_rule_v2" "cluster_tcp" {
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  remote_group_id   = local.cluster_group_id
  security_group_id = openstack_networking_secgroup_v2.nodes.id
}

resource "openstack_compute_instance_v2" "node" {
  name            = "node"
  flavor_name     = "b2.c2r4"
  security_groups = [openstack_networking_secgroup_v2.nodes.name]
  user_data       = file("${path.module}/bootstrap.yaml")

  block_device {
    uuid                  = "2c1a3ad4-0000-4000-8000-000000000001"
    source_type           = "image"
    destination_type      = "volume"
    boot_index            = 0
    volume_size           = 20
    delete_on_termination = true
  }
}
