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
    egress-proxy = {
      ids          = module.egress_proxy.ids
      access_ip_v4 = module.egress_proxy.access_ip_v4
      access_ip_v6 = module.egress_proxy.access_ip_v6
    }
    log-collector = {
      ids          = module.log_collector.ids
      access_ip_v4 = module.log_collector.access_ip_v4
      access_ip_v6 = module.log_collector.access_ip_v6
    }
  }
}

output "security_groups" {
  description = "Per instance group: the id of its security group."
  value       = module.security_groups.ids
}
