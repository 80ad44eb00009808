# Volumes backed up to a Swift container of the same root (restic, duplicity and rclone all
# write to Swift): the container is where the backups go, as a bucket would be.
provider "openstack" {
  cloud = "safespring-sto1"
}

resource "openstack_blockstorage_volume_v3" "data" {
  name = "data"
  size = 50
}

resource "openstack_objectstorage_container_v1" "backups" {
  name = "app-backups"
}
