output "instances" {
  description = "Per instance group: instance ids and addresses."
  value = {
    app = {
      ids          = module.instances_app.ids
      access_ip_v4 = module.instances_app.access_ip_v4
      access_ip_v6 = module.instances_app.access_ip_v6
    }
  }
}

output "security_groups" {
  description = "Per instance group: the id of its security group."
  value       = module.security_groups.ids
}
