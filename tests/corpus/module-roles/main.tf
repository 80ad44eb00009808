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
