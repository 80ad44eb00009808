# Guest encryption is what the user data does, not what a tag says: a volume tagged luks-tang on
# an instance whose user data sets nothing up, one on an instance that formats it with LUKS and
# binds the key to Tang, and a volume of an encrypted volume type (a key the platform holds).
provider "openstack" {
  cloud = "safespring-sto1"
}

resource "openstack_compute_instance_v2" "plain" {
  name        = "plain"
  flavor_name = "b2.c2r4"
  metadata    = { ssb_classification = "internal" }
  user_data   = file("${path.module}/cloud-init/plain.yaml")

  block_device {
    uuid                  = "2c1a3ad4-0000-4000-8000-000000000001"
    source_type           = "image"
    destination_type      = "volume"
    boot_index            = 0
    volume_size           = 20
    delete_on_termination = true
  }
}

resource "openstack_compute_instance_v2" "encrypting" {
  name        = "encrypting"
  flavor_name = "b2.c2r4"
  metadata    = { ssb_classification = "internal" }
  user_data   = file("${path.module}/cloud-init/luks-tang.sh")

  block_device {
    uuid                  = "2c1a3ad4-0000-4000-8000-000000000001"
    source_type           = "image"
    destination_type      = "volume"
    boot_index            = 0
    volume_size           = 20
    delete_on_termination = true
  }
}

resource "openstack_blockstorage_volume_v3" "tag_only" {
  name     = "tag-only"
  size     = 20
  metadata = { ssb_encryption = "luks-tang" }
}

resource "openstack_compute_volume_attach_v2" "tag_only" {
  instance_id = openstack_compute_instance_v2.plain.id
  volume_id   = openstack_blockstorage_volume_v3.tag_only.id
}

resource "openstack_blockstorage_volume_v3" "encrypted_in_guest" {
  name     = "encrypted-in-guest"
  size     = 20
  metadata = { ssb_encryption = "luks-tang" }
}

resource "openstack_compute_volume_attach_v2" "encrypted_in_guest" {
  instance_id = openstack_compute_instance_v2.encrypting.id
  volume_id   = openstack_blockstorage_volume_v3.encrypted_in_guest.id
}

resource "openstack_blockstorage_volume_v3" "platform_encrypted" {
  name        = "platform-encrypted"
  size        = 20
  volume_type = "__DEFAULT__-encrypted"
}

resource "openstack_compute_volume_attach_v2" "platform_encrypted" {
  instance_id = openstack_compute_instance_v2.plain.id
  volume_id   = openstack_blockstorage_volume_v3.platform_encrypted.id
}
