output "ids" {
  description = "Instance id of the collector (a list of one, like an instance group's)."
  value       = module.instance.ids
}

output "access_ip_v4" {
  description = "IPv4 address of the collector (a list of one)."
  value       = module.instance.access_ip_v4
}

output "access_ip_v6" {
  description = "IPv6 address of the collector (a list of one)."
  value       = module.instance.access_ip_v6
}

output "address" {
  description = "The address instances ship their logs to (it reaches them in the bundle ssb-log-pki issues, not through Terraform)."
  value       = module.instance.access_ip_v4[0]
}
