variable "key_pair" {
  description = "Leave unset (or empty, as CI passes an unset KEY_PAIR): the spec declares no break-glass login (break_glass), so the image's default user is locked on every instance and a key pair given here logs in nowhere. Individual logins are the access entries' own keys (ACCESS.md)."
  type        = string
  default     = null
}
