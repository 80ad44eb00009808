variable "name" {
  description = "Name of the collector instance and its log volume, e.g. \"patient-portal-log-collector\"."
  type        = string
}

variable "flavor" {
  description = "A b2.* flavor: the collector boots from central three-copy storage."
  type        = string
  default     = "b2.c2r4"

  validation {
    condition     = can(regex("^b2\\.c[0-9]+r[0-9]+$", var.flavor))
    error_message = "The log collector holds personal data: use a b2.* flavor (central storage, three copies)."
  }
}

variable "image_name" {
  description = "Image with cloud-init (the guest configuration is written for Ubuntu 22.04/24.04, Debian 12/13)."
  type        = string
  default     = "debian-12"
}

variable "network" {
  description = "public, default or private (the collector needs no inbound internet)."
  type        = string
  default     = "default"
}

variable "boot_volume_size" {
  description = "Boot volume size in GB."
  type        = number
  default     = 20
}

variable "key_pair" {
  description = "OpenStack key pair for the image's default user (a break-glass login the guest configuration dates or locks), or null for none."
  type        = string
  default     = null
}

variable "security_group_names" {
  description = "Security groups (only TLS 6514 from the deployment's groups, SSH from admins)."
  type        = list(string)
}

variable "user_data" {
  description = "cloud-init for the collector (rsyslog TLS receiver, retention timers, LUKS + Tang for the log volume)."
  type        = string
  default     = null
}

variable "metadata" {
  description = "Evidence metadata (classification, measures)."
  type        = map(string)
  default     = {}
}

variable "log_volume_ids" {
  description = "The log volume (a list of one id, from ../volume with instance_count = 1); mounted at /var/log/remote by the guest."
  type        = list(string)

  validation {
    condition     = length(var.log_volume_ids) == 1
    error_message = "The collector has exactly one log volume."
  }
}
