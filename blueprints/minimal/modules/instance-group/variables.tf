variable "name" {
  description = "Prefix for every resource of the group, e.g. \"patient-portal-web\"; instances are named <name>-1 … <name>-N."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,58}[a-z0-9]$", var.name))
    error_message = "name must be 2-60 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "instance_count" {
  description = "Number of instances. More than one puts them in an anti-affinity server group (different hypervisors: GDPR Art. 32(1)(b) resilience)."
  type        = number

  validation {
    condition     = var.instance_count >= 1 && var.instance_count <= 100 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count must be a whole number from 1 to 100."
  }
}

variable "flavor" {
  description = "Safespring flavor: b2.cXrY (no local disk, boots from central storage kept in three copies) or l2.cXrY.{100|500|1000} (local NVMe, a single copy: data is lost if that disk fails)."
  type        = string

  validation {
    condition     = can(regex("^(b2\\.c[0-9]+r[0-9]+|l2\\.c[0-9]+r[0-9]+\\.(100|500|1000))$", var.flavor))
    error_message = "flavor must look like b2.c2r4 or l2.c2r4.100 (l2 disk sizes: 100, 500 or 1000)."
  }
}

variable "image_name" {
  description = "Image name as published by Safespring, e.g. \"ubuntu-24.04\"; the most recent image of that name is used when an instance is created."
  type        = string

  validation {
    condition     = length(trimspace(var.image_name)) > 0
    error_message = "image_name must not be empty."
  }
}

variable "network" {
  description = "The one network every instance attaches to: public (public IPv4 + IPv6), default (private IPv4 with NAT + public IPv6) or private (no internet)."
  type        = string

  validation {
    condition     = contains(["public", "default", "private"], var.network)
    error_message = "network must be \"public\", \"default\" or \"private\"."
  }
}

variable "boot_volume_size" {
  description = "Size in GB of the boot volume on central storage. Required (>= 5) for b2 flavors, must be null for l2 flavors (they boot from local disk); checked by a precondition."
  type        = number
  default     = null

  validation {
    condition     = var.boot_volume_size == null ? true : (var.boot_volume_size >= 5 && floor(var.boot_volume_size) == var.boot_volume_size)
    error_message = "boot_volume_size must be null or a whole number of GB, at least 5."
  }
}

variable "boot_volume_type" {
  description = "Volume type of the b2 boot volume: fast (100 read / 50 write IOPS per GB) or large (2 IOPS per GB). Ignored for l2 flavors."
  type        = string
  default     = "fast"

  validation {
    condition     = contains(["fast", "large"], var.boot_volume_type)
    error_message = "boot_volume_type must be \"fast\" or \"large\"."
  }
}

variable "key_pair" {
  description = "Name of an existing OpenStack key pair, or null for none. cloud-init gives it to the image's default user: a break-glass login, which the guest configuration dates or locks (it is not this module's to decide). Changing it later reaches no running instance (ignored, like user_data)."
  type        = string
  default     = null

  validation {
    condition     = var.key_pair == null ? true : length(trimspace(var.key_pair)) > 0
    error_message = "key_pair must be null or name a key pair."
  }
}

variable "security_group_names" {
  description = "Names (not IDs: IDs cause perpetual diffs) of the security groups every instance gets. At least one; the project's \"default\" group is refused because its rules are not managed here."
  type        = list(string)

  validation {
    condition     = length(var.security_group_names) >= 1
    error_message = "security_group_names needs at least one group; without one OpenStack attaches the unmanaged \"default\" group."
  }

  validation {
    condition     = alltrue([for n in var.security_group_names : length(trimspace(n)) > 0 && n != "default"])
    error_message = "security_group_names must not contain empty names or \"default\" (the project's default group is not managed by this blueprint)."
  }
}

variable "user_data" {
  description = "cloud-init user data, the same for every instance of the group: plain text, or already base64-encoded (e.g. base64gzip(file(...)), which cloud-init unpacks). null for none. Changing it replaces the instances."
  type        = string
  default     = null

  validation {
    condition = var.user_data == null ? true : (
      can(regex("^[A-Za-z0-9+/]+={0,2}$", var.user_data)) ? length(var.user_data) : length(base64encode(var.user_data))
    ) <= 65535
    error_message = "user_data exceeds Nova's limit of 65535 bytes once base64-encoded (compress it with base64gzip())."
  }
}

variable "metadata" {
  description = "Extra instance metadata (visible inside the guest through the metadata service: never put secrets here). Keys ssb_storage, ssb_anti_affinity and ssb_volume_* are set by this module and may not be given."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.metadata : length(k) >= 1 && length(k) <= 255 && length(v) <= 255])
    error_message = "metadata keys must be 1-255 characters and values at most 255 characters (Nova limits)."
  }

  validation {
    condition     = alltrue([for k in keys(var.metadata) : !contains(["ssb_storage", "ssb_anti_affinity"], k) && !startswith(k, "ssb_volume_")])
    error_message = "metadata keys ssb_storage, ssb_anti_affinity and ssb_volume_* are reserved: this module sets them as evidence."
  }
}

variable "volume_ids" {
  description = "Data volumes per volume name: name -> list of volume IDs, one per instance (index i belongs to instance i+1). Instance i gets metadata ssb_volume_<name> = volume_ids[name][i], so the guest finds the device as /dev/disk/by-id/virtio-<first 20 characters of the ID>. Every list must have instance_count entries (checked by a precondition)."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.volume_ids) : can(regex("^[a-z][a-z0-9-]{0,30}$", k))])
    error_message = "volume_ids keys (volume names) must be 1-31 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}
