# One data volume per instance of a group, on central block storage (three copies).
#
# The volumes do not depend on the instances: the instance group takes the volume IDs, puts
# them into metadata (ssb_volume_<name>) so the guest can find its device by serial, and
# attaches them. Creating volumes first also means a replaced instance gets its old,
# still-encrypted volume back instead of a new empty one. (One direction only between the
# modules also lets scanners resolve both.)

resource "openstack_blockstorage_volume_v3" "this" {
  count = var.instance_count

  name        = "${var.name}-${count.index + 1}"
  description = var.encryption == "luks-tang" ? "LUKS2 inside the guest, unlocked via the customer's Tang servers" : "not encrypted inside the guest"
  size        = var.size
  volume_type = var.volume_type

  metadata = merge(var.metadata, { ssb_encryption = var.encryption })
}
