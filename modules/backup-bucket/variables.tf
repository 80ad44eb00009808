variable "name" {
  description = "Bucket name. 3-63 characters: lowercase letters, digits and hyphens, starting and ending with a letter or digit (what path-style Safespring Storage handles everywhere)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be 3-63 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "lock_days" {
  description = "Default Object Lock retention, in days, for every object version written (restic packs, indexes, snapshots and the key copies). Within this time no version can be deleted or overwritten for good: ransomware protection, GDPR Art. 32(1)(b)-(c)."
  type        = number
  default     = 14

  validation {
    condition     = var.lock_days >= 1 && var.lock_days <= 365 && floor(var.lock_days) == var.lock_days
    error_message = "lock_days must be a whole number of days from 1 to 365."
  }
}

variable "lock_mode" {
  description = "Object Lock mode of every version written, for lock_days after it is written. COMPLIANCE (default): nobody can remove a version before then, not even with the project's S3 keys (which the instances hold: Safespring Storage keys belong to the project, with no per-key permissions); an erasure request (Art. 17) cannot remove it earlier either. GOVERNANCE: whoever holds those keys can remove a locked version by sending the bypass header, so an operator can erase early, and so can an attacker on an instance. Either way a version older than lock_days is no longer locked: restic reuses what it wrote long ago, so the keys can delete much of what recent snapshots need."
  type        = string
  default     = "COMPLIANCE"

  validation {
    condition     = contains(["GOVERNANCE", "COMPLIANCE"], var.lock_mode)
    error_message = "lock_mode must be GOVERNANCE or COMPLIANCE."
  }
}

variable "noncurrent_retention_days" {
  description = "Days an object version is kept after restic deleted it (prune) or an attacker did (a delete marker on top). This is the window for undoing a malicious delete, and the storage-limitation bound on data restic has already forgotten (Art. 5(1)(e)). Must be longer than lock_days."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_retention_days >= 1 && floor(var.noncurrent_retention_days) == var.noncurrent_retention_days
    error_message = "noncurrent_retention_days must be a whole number of days, at least 1."
  }

  validation {
    condition     = var.noncurrent_retention_days > var.lock_days
    error_message = "noncurrent_retention_days must be greater than lock_days: deleted versions must stay recoverable at least as long as they are locked."
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

variable "classification" {
  description = "Data classification recorded as the ssb_classification evidence tag."
  type        = string
  default     = "personal"

  validation {
    condition     = contains(["personal", "personal-special", "non-personal"], var.classification)
    error_message = "classification must be personal, personal-special or non-personal."
  }
}

variable "tags" {
  description = "Extra tags on the bucket (e.g. ssb_deployment). The module sets ssb_classification and ssb_measures itself; values given here for those keys are overridden."
  type        = map(string)
  default     = {}
}
