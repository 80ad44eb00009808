# Data volumes only where an instance asks for them: `data_disks = {}` creates none, and a scan
# must not judge volumes that do not exist. The db instance's volume exists and holds data.
provider "openstack" {
  cloud = "safespring-sto1"
}

locals {
  instances = {
    web = { flavor = "b2.c2r4" }
    db  = { flavor = "b2.c4r16", data_disks = { pgdata = { size = 50, type = "fast" } } }
  }
}

module "servers" {
  source     = "./instance"
  for_each   = local.instances
  name       = each.key
  flavor     = each.value.flavor
  data_disks = try(each.value.data_disks, {})
}
