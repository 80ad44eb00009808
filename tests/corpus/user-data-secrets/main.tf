# A TLS private key and database passwords written into cloud-init user data, a shell script
# with a token, and an admin password on the instance; next to user data that fetches its
# secret at boot, and one that only switches password login off.
provider "openstack" {
  cloud = "safespring-sto1"
}

variable "db_password" {
  type      = string
  sensitive = true
  default   = "corpus-not-a-secret"
}

locals {
  boot = {
    uuid                  = "2c1a3ad4-0000-4000-8000-000000000001"
    source_type           = "image"
    destination_type      = "volume"
    boot_index            = 0
    volume_size           = 20
    delete_on_termination = true
  }
}

resource "openstack_compute_instance_v2" "web_with_key" {
  name        = "web-with-key"
  flavor_name = "b2.c2r4"
  metadata    = { ssb_classification = "internal" }
  user_data   = file("${path.module}/cloud-init/web.yaml")

  block_device {
    uuid                  = local.boot.uuid
    source_type           = local.boot.source_type
    destination_type      = local.boot.destination_type
    boot_index            = local.boot.boot_index
    volume_size           = local.boot.volume_size
    delete_on_termination = local.boot.delete_on_termination
  }
}

resource "openstack_compute_instance_v2" "app_templated" {
  name        = "app-templated"
  flavor_name = "b2.c2r4"
  metadata    = { ssb_classification = "internal" }
  user_data = templatefile("${path.module}/cloud-init/app.yaml.tftpl", {
    db_password = var.db_password
  })

  block_device {
    uuid                  = local.boot.uuid
    source_type           = local.boot.source_type
    destination_type      = local.boot.destination_type
    boot_index            = local.boot.boot_index
    volume_size           = local.boot.volume_size
    delete_on_termination = local.boot.delete_on_termination
  }
}

resource "openstack_compute_instance_v2" "worker_script" {
  name        = "worker-script"
  flavor_name = "b2.c2r4"
  metadata    = { ssb_classification = "internal" }
  user_data   = <<-EOT
    #!/bin/sh
    curl -sfL https://get.example/install.sh | AGENT_TOKEN=corpus0notarealtoken0 sh -
  EOT

  block_device {
    uuid                  = local.boot.uuid
    source_type           = local.boot.source_type
    destination_type      = local.boot.destination_type
    boot_index            = local.boot.boot_index
    volume_size           = local.boot.volume_size
    delete_on_termination = local.boot.delete_on_termination
  }
}

resource "openstack_compute_instance_v2" "admin_password" {
  name        = "admin-password"
  flavor_name = "b2.c2r4"
  metadata    = { ssb_classification = "internal" }
  admin_pass  = "corpus-not-a-secret"

  block_device {
    uuid                  = local.boot.uuid
    source_type           = local.boot.source_type
    destination_type      = local.boot.destination_type
    boot_index            = local.boot.boot_index
    volume_size           = local.boot.volume_size
    delete_on_termination = local.boot.delete_on_termination
  }
}

resource "openstack_compute_instance_v2" "fetches_at_boot" {
  name        = "fetches-at-boot"
  flavor_name = "b2.c2r4"
  metadata    = { ssb_classification = "internal" }
  user_data   = file("${path.module}/cloud-init/fetch.yaml")

  block_device {
    uuid                  = local.boot.uuid
    source_type           = local.boot.source_type
    destination_type      = local.boot.destination_type
    boot_index            = local.boot.boot_index
    volume_size           = local.boot.volume_size
    delete_on_termination = local.boot.delete_on_termination
  }
}
