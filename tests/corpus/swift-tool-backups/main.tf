# Volumes of a cluster whose Swift containers are named for the tools that back it up, as
# public RKE2 roots name them: restic's repository and etcd's snapshots.
provider "openstack" {
  cloud = "safespring-sto1"
}

resource "openstack_blockstorage_volume_v3" "data" {
  name = "data"
  size = 50
}

resource "openstack_objectstorage_container_v1" "restic" {
  name = "rke2-restic"
}

resource "openstack_objectstorage_container_v1" "etcd" {
  name = "rke2-etcd-snapshots"
}
