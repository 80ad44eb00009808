output "ids" {
  description = "Security group id per group key."
  value       = { for key, group in openstack_networking_secgroup_v2.this : key => group.id }
}

output "names" {
  description = "Security group name per group key (instances take names)."
  value       = { for key, group in openstack_networking_secgroup_v2.this : key => group.name }
}
