variable "name" {
  type = string
}

variable "flavor" {
  type = string
}

variable "data_disks" {
  type = map(object({
    size = number
    type = string
  }))
  default = {}
}

resource "openstack_compute_instance_v2" "this" {
  name        = var.name
  flavor_name = var.flavor
  metadata    = { ssb_classification = "internal" }

  block_device {
    uuid                  = "2c1a3ad4-0000-4000-8000-000000000001"
    source_type           = "image"
    destination_type      = "volume"
    boot_index            = 0
    volume_size           = 20
    delete_on_termination = true
  }
}

resource "openstack_blockstorage_volume_v3" "data" {
  for_each    = var.data_disks
  name        = "${var.name}-${each.key}"
  size        = each.value.size
  volume_type = each.value.type
}

resource "openstack_compute_volume_attach_v2" "data" {
  for_each    = var.data_disks
  instance_id = openstack_compute_instance_v2.this.id
  volume_id   = openstack_blockstorage_volume_v3.data[each.key].id
}
