variable "name" {
  description = "Security group name, e.g. \"patient-portal-web\"."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.name))
    error_message = "name must be 1-63 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "description" {
  description = "Why the group exists (shown in the OpenStack dashboard; evidence for the record of processing, GDPR Art. 30(1)(g))."
  type        = string

  validation {
    condition     = length(trimspace(var.description)) > 0 && length(var.description) <= 255
    error_message = "description must be non-empty and at most 255 characters."
  }
}

variable "rules" {
  description = <<-EOT
    Rules keyed by a stable name (the key becomes part of the resource address, so renaming a
    rule replaces it). Everything not listed is denied: the group is created without OpenStack's
    default rules. For tcp/udp, port_range_min..port_range_max is the port range (1-65535); for
    icmp, port_range_min is the ICMP type and port_range_max the ICMP code (0-255). Exactly one
    of remote_ip_prefix (a CIDR of the rule's ethertype) or remote_group_id must be set and
    non-empty: on Safespring a rule with an empty remote_ip_prefix opened all ports.
    remote_group_id = "self" means this group itself (members of one group talking to each
    other), since a module cannot be handed its own ID.
  EOT
  type = map(object({
    direction        = string
    ethertype        = string
    protocol         = string
    port_range_min   = number
    port_range_max   = number
    remote_ip_prefix = optional(string)
    remote_group_id  = optional(string)
    description      = string
  }))

  validation {
    condition     = alltrue([for k, r in var.rules : can(regex("^[a-z0-9][a-z0-9_-]{0,62}$", k))])
    error_message = "Rule keys must be 1-63 characters of lowercase letters, digits, '_' and '-'."
  }

  validation {
    condition     = alltrue([for r in var.rules : contains(["ingress", "egress"], r.direction)])
    error_message = "Every rule's direction must be \"ingress\" or \"egress\"."
  }

  validation {
    condition     = alltrue([for r in var.rules : contains(["IPv4", "IPv6"], r.ethertype)])
    error_message = "Every rule's ethertype must be \"IPv4\" or \"IPv6\"."
  }

  validation {
    condition     = alltrue([for r in var.rules : contains(["tcp", "udp", "icmp"], r.protocol)])
    error_message = "Every rule's protocol must be \"tcp\", \"udp\" or \"icmp\" (no protocol would mean all protocols and all ports)."
  }

  validation {
    condition     = alltrue([for r in var.rules : (r.remote_ip_prefix != null) != (r.remote_group_id != null)])
    error_message = "Every rule needs exactly one of remote_ip_prefix or remote_group_id; leave the other one out (null), never \"\" (Safespring known issue: an empty remote_ip_prefix opens all ports). Write 0.0.0.0/0 or ::/0 when the whole internet is really meant."
  }

  validation {
    condition     = alltrue([for r in var.rules : r.remote_group_id == null ? true : can(regex("^[0-9A-Za-z-]+$", r.remote_group_id))])
    error_message = "Every remote_group_id that is set must be a non-empty security group ID."
  }

  validation {
    condition = alltrue([
      for r in var.rules :
      r.remote_ip_prefix == null ? true : (
        can(cidrhost(r.remote_ip_prefix, 0)) &&
        (r.ethertype == "IPv6") == strcontains(r.remote_ip_prefix, ":")
      )
    ])
    error_message = "Every remote_ip_prefix must be a CIDR (e.g. 192.0.2.0/24, 2001:db8::/32) of the same family as the rule's ethertype."
  }

  validation {
    condition = alltrue([
      for r in var.rules :
      (r.port_range_min == null || r.port_range_max == null) ? false : (
        floor(r.port_range_min) == r.port_range_min && floor(r.port_range_max) == r.port_range_max
      )
    ])
    error_message = "Every rule needs whole-number port_range_min and port_range_max (a rule without a port range would open every port)."
  }

  validation {
    condition = alltrue([
      for r in var.rules :
      (r.protocol == "icmp" || r.port_range_min == null || r.port_range_max == null) ? true : (
        r.port_range_min >= 1 && r.port_range_max <= 65535 && r.port_range_min <= r.port_range_max
      )
    ])
    error_message = "For tcp and udp, ports must be within 1-65535 and port_range_min <= port_range_max."
  }

  validation {
    condition = alltrue([
      for r in var.rules :
      (r.protocol != "icmp" || r.port_range_min == null || r.port_range_max == null) ? true : (
        r.port_range_min >= 0 && r.port_range_min <= 255 && r.port_range_max >= 0 && r.port_range_max <= 255
      )
    ])
    error_message = "For icmp, port_range_min is the ICMP type and port_range_max the ICMP code, each within 0-255."
  }

  validation {
    condition     = alltrue([for r in var.rules : length(trimspace(r.description)) > 0 && length(r.description) <= 255])
    error_message = "Every rule needs a non-empty description (at most 255 characters) saying why it exists."
  }
}
