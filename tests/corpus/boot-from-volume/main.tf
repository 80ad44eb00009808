# Instances that boot from a volume keep their disk on central block storage whatever their
# flavor is called; a flavor given by id tells the scan nothing about where its disk is.
provider "openstack" {
  cloud = "safespring-sto1"
}

data "openstack_compute_flavor_v2" "small" {
  name = "b2.c1r2"
}

resource "openstack_compute_instance_v2" "generic_flavor" {
  name        = "generic-flavor"
  flavor_name = "m1.large"

  block_device {
    uuid                  = "2c1a3ad4-0000-4000-8000-000000000001"
    source_type           = "image"
    destination_type      = "volume"
    boot_index            = 0
    volume_size           = 20
    delete_on_termination = true
  }
}

resource "openstack_compute_instance_v2" "flavor_from_data" {
  name      = "flavor-from-data"
  flavor_id = data.openstack_compute_flavor_v2.small.id

  block_device {
    uuid                  = "2c1a3ad4-0000-4000-8000-000000000001"
    source_type           = "image"
    destination_type      = "volume"
    boot_index            = 0
    volume_size           = 20
    delete_on_termination = true
  }
}

resource "openstack_compute_instance_v2" "flavor_id_image" {
  name      = "flavor-id-image"
  flavor_id = data.openstack_compute_flavor_v2.small.id
  image_id  = "2c1a3ad4-0000-4000-8000-000000000001"
}

resource "openstack_compute_instance_v2" "local_disk" {
  name        = "local-disk"
  flavor_name = "l2.c2r4.100"
  image_name  = "ubuntu-24.04"
}
