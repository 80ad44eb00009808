# One module call keyed by role: the database is a role of its own, the two web servers are
# replicas of one role and need a server group.
provider "openstack" {
  cloud = "safespring-sto1"
}

locals {
  instances = {
    db   = { flavor = "b2.c4r16", image = "debian-12" }
    web1 = { flavor = "b2.c2r4", image = "debian-12" }
    web2 = { flavor = "b2.c2r4", image = "debian-12" }
  }
}

module "servers" {
  source   = "./instance"
  for_each = local.instances
  name     = each.key
  flavor   = each.value.flavor
  image    = each.value.image
}

# Two services with identical settings in one for_each, keyed by what they are: the keys say
# they are different roles, or two replicas of one; the code cannot tell which.
resource "openstack_compute_instance_v2" "service" {
  for_each    = toset(["ctfd", "db"])
  name        = each.key
  flavor_name = "b2.c2r4"

  block_device {
    uuid                  = "2c1a3ad4-0000-4000-8000-000000000001"
    source_type           = "image"
    destination_type      = "volume"
    boot_index            = 0
    volume_size           = 20
    delete_on_termination = true
  }
}

# Numbered keys of one role are replicas, as count's indices are.
resource "openstack_compute_instance_v2" "node" {
  for_each    = toset(["node-1", "node-2"])
  name        = each.key
  flavor_name = "b2.c2r4"

  block_device {
    uuid                  = "2c1a3ad4-0000-4000-8000-000000000001"
    source_type           = "image"
    destination_type      = "volume"
    boot_index            = 0
    volume_size           = 20
    delete_on_termination = true
  }
}
