variable "name" {
  description = "Bucket name. S3 naming rules restricted to what path-style Safespring Storage handles everywhere: 3-63 characters, lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be 3-63 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "retention_days" {
  description = "Days after which current objects expire (become noncurrent) and, unless noncurrent_retention_days is set, days after which noncurrent versions are deleted. Storage limitation, GDPR Art. 5(1)(e)."
  type        = number

  validation {
    condition     = var.retention_days >= 1 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number of days, at least 1 (GDPR Art. 5(1)(e): every bucket has an end date for its data)."
  }
}

variable "noncurrent_retention_days" {
  description = "Days a version is kept after it stopped being current (overwritten or deleted). null means the same as retention_days. An object can therefore exist for up to retention_days + this value in total."
  type        = number
  default     = null

  validation {
    condition     = var.noncurrent_retention_days == null ? true : (var.noncurrent_retention_days >= 1 && floor(var.noncurrent_retention_days) == var.noncurrent_retention_days)
    error_message = "noncurrent_retention_days must be null or a whole number of days, at least 1."
  }
}

variable "object_lock" {
  description = "Default Object Lock retention for new object versions (WORM, for backups: GDPR Art. 32(1)(c)). mode is COMPLIANCE (nobody can shorten it, not even the project owner) or GOVERNANCE (users with s3:BypassGovernanceRetention can). Object Lock can only be enabled when the bucket is created: changing this between null and non-null replaces the bucket. null disables Object Lock."
  type = object({
    mode = string
    days = number
  })
  default = null

  validation {
    condition     = var.object_lock == null ? true : contains(["COMPLIANCE", "GOVERNANCE"], var.object_lock.mode)
    error_message = "object_lock.mode must be COMPLIANCE or GOVERNANCE."
  }

  validation {
    condition     = var.object_lock == null ? true : (var.object_lock.days >= 1 && floor(var.object_lock.days) == var.object_lock.days)
    error_message = "object_lock.days must be a whole number of days, at least 1."
  }

}

variable "abort_incomplete_multipart_days" {
  description = "Days after which unfinished multipart uploads are aborted and their parts deleted (parts are data too, and invisible in listings)."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_days >= 1 && floor(var.abort_incomplete_multipart_days) == var.abort_incomplete_multipart_days
    error_message = "abort_incomplete_multipart_days must be a whole number of days, at least 1."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete a bucket that still holds objects. false (the default) makes destroy fail on a non-empty bucket, so data is never removed by accident. Objects under an unexpired COMPLIANCE lock cannot be deleted either way."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags on the bucket, e.g. evidence tags such as ssb_classification and ssb_measures."
  type        = map(string)
  default     = {}
}

variable "public_read" {
  description = "Let anyone read the objects (GetObject) over TLS. Only for data that is not personal: the generator refuses it for personal data (GDPR Art. 25(2)); ACLs stay blocked either way."
  type        = bool
  default     = false
}
