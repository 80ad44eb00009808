output "ids" {
  description = "Instance IDs, in instance order (<name>-1 first)."
  value       = openstack_compute_instance_v2.this[*].id
}

output "names" {
  description = "Instance names, in instance order."
  value       = openstack_compute_instance_v2.this[*].name
}

output "access_ip_v4" {
  description = "First IPv4 address of each instance (private on the default and private networks)."
  value       = openstack_compute_instance_v2.this[*].access_ip_v4
}

output "access_ip_v6" {
  description = "First IPv6 address of each instance (empty on the private network)."
  value       = openstack_compute_instance_v2.this[*].access_ip_v6
}

output "server_group_id" {
  description = "ID of the anti-affinity server group, or null when instance_count is 1."
  value       = one(openstack_compute_servergroup_v2.this[*].id)
}
