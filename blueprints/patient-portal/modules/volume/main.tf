# One data volume per instance of a group, on central block storage (three copies).
#
# The volumes do not depend on the instances: the instance group takes the volume IDs as
# metadata (ssb_volume_<name>) so the guest can find its device by serial, and only the
# attachments depend on both. Creating volumes first also means a replaced instance gets its
# old, still-encrypted volume back instead of a new empty one.

resource "openstack_blockstorage_volume_v3" "this" {
  count = var.instance_count

  name        = "${var.name}-${count.index + 1}"
  description = var.encryption == "luks-tang" ? "LUKS2 inside the guest, unlocked via the customer's Tang servers" : "not encrypted inside the guest"
  size        = var.size
  volume_type = var.volume_type

  metadata = merge(var.metadata, { ssb_encryption = var.encryption })
}

resource "openstack_compute_volume_attach_v2" "this" {
  count = var.instance_count

  # try(): a short list is reported by the precondition below, not as an index error.
  instance_id = try(var.instance_ids[count.index], "")
  volume_id   = openstack_blockstorage_volume_v3.this[count.index].id

  lifecycle {
    precondition {
      condition     = length(var.instance_ids) == var.instance_count
      error_message = "instance_ids must hold exactly instance_count instance IDs (one volume per instance)."
    }
  }
}
