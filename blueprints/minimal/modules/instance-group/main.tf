# A group of identical instances on one Safespring site.
#
# b2 flavors have no local disk: they boot from a volume on central block storage (Ceph, three
# copies). l2 flavors boot from their local NVMe disk (one copy). The instances carry their own
# evidence in metadata (ssb_storage, ssb_anti_affinity) and the IDs of their data volumes
# (ssb_volume_<name>), which the guest uses to find the right device for LUKS + Tang.

locals {
  central_storage = startswith(var.flavor, "b2.")
  anti_affinity   = var.instance_count > 1

  # One attachment per (volume name, instance): volume_ids[name][i] goes to instance i.
  attachments = {
    for pair in flatten([
      for vname, ids in var.volume_ids : [
        for i, id in ids : { key = "${vname}-${i + 1}", volume_id = id, instance = i }
      ]
    ]) : pair.key => pair
  }

  evidence_metadata = {
    ssb_storage       = local.central_storage ? "central-3-copy" : "local-single-copy"
    ssb_anti_affinity = local.anti_affinity ? "true" : "false"
  }
}

data "openstack_images_image_v2" "this" {
  name        = var.image_name
  most_recent = true
}

resource "openstack_compute_servergroup_v2" "this" {
  count = local.anti_affinity ? 1 : 0

  name = var.name
  # Hard anti-affinity: the scheduler refuses to put two members on one hypervisor, so one
  # host failure cannot take the whole group down. (There are no availability zones.)
  policies = ["anti-affinity"]
}

resource "openstack_compute_instance_v2" "this" {
  count = var.instance_count

  name            = "${var.name}-${count.index + 1}"
  flavor_name     = var.flavor
  image_id        = local.central_storage ? null : data.openstack_images_image_v2.this.id
  key_pair        = var.key_pair
  security_groups = var.security_group_names
  user_data       = var.user_data
  # Give the guest time to unmount its LUKS volumes and flush before it is destroyed.
  stop_before_destroy = true

  # Exactly one network: Safespring's Calico network is flat layer 3.
  network {
    name = var.network
  }

  # The for_each expressions use inputs directly (the preconditions below tie boot_volume_size to
  # the flavor), so scanners that evaluate HCL without Terraform can expand them.
  dynamic "block_device" {
    for_each = var.boot_volume_size == null ? [] : [var.boot_volume_size]

    content {
      uuid                  = data.openstack_images_image_v2.this.id
      source_type           = "image"
      destination_type      = "volume"
      boot_index            = 0
      volume_size           = block_device.value
      volume_type           = var.boot_volume_type
      delete_on_termination = true
    }
  }

  dynamic "scheduler_hints" {
    for_each = var.instance_count > 1 ? [openstack_compute_servergroup_v2.this[0].id] : []

    content {
      group = scheduler_hints.value
    }
  }

  lifecycle {
    precondition {
      condition     = local.central_storage ? var.boot_volume_size != null : true
      error_message = "boot_volume_size is required (at least 5 GB) for b2 flavors: they have no local disk and boot from a central volume."
    }

    precondition {
      condition     = local.central_storage ? true : var.boot_volume_size == null
      error_message = "boot_volume_size must be null for l2 flavors: they boot from their local disk (booting l2 from a volume fails on Safespring)."
    }

    precondition {
      condition     = alltrue([for ids in values(var.volume_ids) : length(ids) == var.instance_count])
      error_message = "Every list in volume_ids must hold exactly instance_count volume IDs (one per instance)."
    }

    # A new upstream image (most_recent) must not silently replace running instances; roll
    # instances onto a new image deliberately with `terraform apply -replace=...`. Security
    # updates inside running instances come from unattended upgrades.
    # user_data forces a new server in the OpenStack provider, and the boot volume is deleted
    # with it: a new guest configuration (a spec edit, a generator upgrade) must never replace
    # instances by itself. `update` names the groups whose configuration changed; replace their
    # instances one at a time, after a backup (the blueprint README says how).
    # key_pair forces a new server too, and only reaches the guest at its first boot (cloud-init
    # gives it to the default user then): a new key pair waits for reprovisioning like user_data.
    # The metadata key ssb_guest_config records the configuration an instance was created with
    # (the SHA-256 of its cloud-init file): kept as it was, like user_data, so a state or plan
    # tells which instances wait for reprovisioning (the compliance report lists them).
    ignore_changes = [image_id, block_device[0].uuid, user_data, key_pair, metadata["ssb_guest_config"]]
  }

  # Caller metadata first so the module's evidence keys always win (the caller may not set
  # them anyway; see the validation on var.metadata).
  metadata = merge(
    var.metadata,
    { for vname, ids in var.volume_ids : "ssb_volume_${vname}" => try(ids[count.index], "") },
    local.evidence_metadata,
  )
}

resource "openstack_compute_volume_attach_v2" "this" {
  for_each = local.attachments

  instance_id = openstack_compute_instance_v2.this[each.value.instance].id
  volume_id   = each.value.volume_id
}
