variable "key_pair" {
  description = "Name of an existing OpenStack keypair of the person who administers these instances (individual, never shared)."
  type        = string

  validation {
    condition     = length(var.key_pair) > 0
    error_message = "key_pair must name an existing keypair."
  }
}
