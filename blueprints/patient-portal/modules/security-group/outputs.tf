output "id" {
  description = "ID of the security group (use it as remote_group_id in other groups' rules)."
  value       = openstack_networking_secgroup_v2.this.id
}

output "name" {
  description = "Name of the security group (pass names, not IDs, to instances: IDs cause perpetual diffs)."
  value       = openstack_networking_secgroup_v2.this.name
}
