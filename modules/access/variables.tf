variable "name_prefix" {
  description = "Prefix of every application credential name, e.g. \"patient-portal\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-40 lowercase letters, digits and hyphens."
  }
}

variable "application_credentials" {
  description = "One credential per application: its role and the last day it may be used (YYYY-MM-DD). Individual and expiring; never shared."
  type = map(object({
    role    = string
    expires = string
  }))
  default = {}

  validation {
    condition     = alltrue([for name, c in var.application_credentials : can(regex("^[a-z][a-z0-9._-]{0,62}[a-z0-9]$", name))])
    error_message = "Credential names are 2-64 lowercase letters, digits, '.', '_' or '-'."
  }

  validation {
    condition     = alltrue([for c in values(var.application_credentials) : contains(["admin", "member", "reader"], c.role)])
    error_message = "role must be admin, member or reader."
  }

  validation {
    condition     = alltrue([for c in values(var.application_credentials) : can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", c.expires))])
    error_message = "expires must be a date YYYY-MM-DD: every credential ends (no open-ended access)."
  }
}
