# The deployment's central log collector: one instance on central storage with its own log
# volume (made by ../volume in the root, encrypted inside the guest with luks-tang for personal
# data). Every other instance ships its logs here over mutually authenticated TLS (port 6514);
# the guest configuration is in the user data.
#
# Why a module of its own: instance groups take the collector's address as metadata. If that
# address came from another call of ../instance-group, Checkov (3.3) could no longer render
# the instance-group calls and the policy pack would fail them closed; a wrapper with its own
# source keeps every module resolvable. The volume is created in the root for the same reason.

module "instance" {
  source = "../instance-group"

  name                 = var.name
  instance_count       = 1
  flavor               = var.flavor
  image_name           = var.image_name
  network              = var.network
  boot_volume_size     = var.boot_volume_size
  key_pair             = var.key_pair
  security_group_names = var.security_group_names
  user_data            = var.user_data
  metadata             = var.metadata
  volume_ids = {
    logs = var.log_volume_ids
  }
}
