variable "key_pair" {
  description = "Leave unset: the spec declares no break-glass login (break_glass), so the image's default user is locked on every instance and a key pair given here logs in nowhere. Individual logins are the access entries' own keys (ACCESS.md)."
  type        = string
  default     = null

  validation {
    condition     = var.key_pair == null ? true : length(var.key_pair) > 0
    error_message = "key_pair must be unset or name an existing key pair."
  }
}
