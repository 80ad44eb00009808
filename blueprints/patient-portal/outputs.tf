output "instances" {
  description = "Per instance group: instance ids and addresses."
  value = {
    web = {
      ids          = module.instances_web.ids
      access_ip_v4 = module.instances_web.access_ip_v4
      access_ip_v6 = module.instances_web.access_ip_v6
    }
    db = {
      ids          = module.instances_db.ids
      access_ip_v4 = module.instances_db.access_ip_v4
      access_ip_v6 = module.instances_db.access_ip_v6
    }
  }
}

output "security_groups" {
  description = "Per instance group: the id of its security group."
  value = {
    web = module.sg_web.id
    db  = module.sg_db.id
  }
}
