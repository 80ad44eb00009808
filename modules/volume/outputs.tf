output "ids" {
  description = "Volume IDs in instance order; pass them to the instance group as volume_ids[<volume name>]; it attaches them."
  value       = openstack_blockstorage_volume_v3.this[*].id
}

output "names" {
  description = "Volume names in instance order."
  value       = openstack_blockstorage_volume_v3.this[*].name
}
