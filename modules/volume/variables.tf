variable "name" {
  description = "Prefix of the volume names, e.g. \"patient-portal-web-data\"; volumes are named <name>-1 … <name>-N, volume i belonging to instance i."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,58}[a-z0-9]$", var.name))
    error_message = "name must be 2-60 characters of lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "size" {
  description = "Size of each volume in GB."
  type        = number

  validation {
    condition     = var.size >= 1 && floor(var.size) == var.size
    error_message = "size must be a whole number of GB, at least 1."
  }
}

variable "volume_type" {
  description = "Safespring volume type: fast (100 read / 50 write IOPS per GB) or large (2 IOPS per GB). Both are central storage (three copies); neither is encrypted by the platform for you."
  type        = string

  validation {
    condition     = contains(["fast", "large"], var.volume_type)
    error_message = "volume_type must be \"fast\" or \"large\" (Safespring has no encrypted volume type)."
  }
}

variable "instance_count" {
  description = "Number of volumes to create: one per instance of the group."
  type        = number

  validation {
    condition     = var.instance_count >= 1 && var.instance_count <= 100 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count must be a whole number from 1 to 100."
  }
}

variable "encryption" {
  description = "How the guest encrypts the volume: \"luks-tang\" (LUKS2 inside the guest, unlocked only through the customer's Tang servers: the platform never holds the key) or \"none\". Recorded on the volume as metadata ssb_encryption. No default: the choice must be explicit."
  type        = string

  validation {
    condition     = contains(["luks-tang", "none"], var.encryption)
    error_message = "encryption must be \"luks-tang\" or \"none\"."
  }
}

variable "metadata" {
  description = "Extra volume metadata (readable by anyone with access to the project: never secrets). The key ssb_encryption is set by this module and may not be given."
  type        = map(string)
  default     = {}

  validation {
    condition     = !contains(keys(var.metadata), "ssb_encryption")
    error_message = "metadata key ssb_encryption is reserved: this module sets it from var.encryption."
  }

  validation {
    condition     = alltrue([for k, v in var.metadata : length(k) >= 1 && length(k) <= 255 && length(v) <= 255])
    error_message = "metadata keys must be 1-255 characters and values at most 255 characters."
  }
}
