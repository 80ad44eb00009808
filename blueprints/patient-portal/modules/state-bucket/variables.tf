variable "name" {
  description = "Bucket name for Terraform remote state. 3-63 characters, lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be 3-63 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "noncurrent_retention_days" {
  description = "Days an old state version (and an old lock file version) is kept after it was replaced, for rolling back a broken state. Current state never expires."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_retention_days >= 1 && floor(var.noncurrent_retention_days) == var.noncurrent_retention_days
    error_message = "noncurrent_retention_days must be a whole number of days, at least 1."
  }
}

variable "tags" {
  description = "Tags on the bucket, e.g. evidence tags such as ssb_classification and ssb_measures."
  type        = map(string)
  default     = {}
}
