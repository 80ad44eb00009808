variable "name_prefix" {
  description = "Prefix of every security group name, e.g. \"patient-portal\": groups are <prefix>-<key>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-40 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "groups" {
  description = "One security group per instance group: key -> description (why the group exists; shown in the OpenStack dashboard, evidence for the record of processing, GDPR Art. 30(1)(g))."
  type        = map(string)

  validation {
    condition     = alltrue([for k, d in var.groups : can(regex("^[a-z]([a-z0-9-]{0,20}[a-z0-9])?$", k)) && length(trimspace(d)) > 0 && length(d) <= 255])
    error_message = "Group keys are short lowercase names; every group needs a description of at most 255 characters."
  }
}

variable "cidr_rules" {
  description = <<-EOT
    Rules whose remote is a network, keyed "<group>/<name>" (the key is part of the resource
    address: renaming a rule replaces it). `group` is the key of the group the rule belongs
    to. remote_ip_prefix is a CIDR of the rule's ethertype and never empty: on Safespring a rule
    with an empty remote_ip_prefix opened all ports; write 0.0.0.0/0 or ::/0 when the whole
    internet is really meant. For icmp, the port fields are ICMP type and code.
  EOT
  type = map(object({
    group            = string
    direction        = string
    ethertype        = string
    protocol         = string
    port_range_min   = number
    port_range_max   = number
    remote_ip_prefix = string
    description      = string
  }))
  default = {}

  validation {
    condition     = alltrue([for k, r in var.cidr_rules : can(regex("^[a-z][a-z0-9-]*/[a-z0-9][a-z0-9_./:-]{0,126}$", k))])
    error_message = "Rule keys are <group>/<name>: lowercase letters, digits, '_', '.', '/', ':' and '-'."
  }

  validation {
    condition     = alltrue([for r in var.cidr_rules : contains(["ingress", "egress"], r.direction)])
    error_message = "Every rule's direction must be \"ingress\" or \"egress\"."
  }

  validation {
    condition     = alltrue([for r in var.cidr_rules : contains(["IPv4", "IPv6"], r.ethertype)])
    error_message = "Every rule's ethertype must be \"IPv4\" or \"IPv6\"."
  }

  validation {
    condition     = alltrue([for r in var.cidr_rules : contains(["tcp", "udp", "icmp"], r.protocol)])
    error_message = "Every rule's protocol must be \"tcp\", \"udp\" or \"icmp\" (no protocol would mean all protocols and all ports)."
  }

  validation {
    condition = alltrue([
      for r in var.cidr_rules :
      (r.port_range_min == null || r.port_range_max == null) ? false : (
        floor(r.port_range_min) == r.port_range_min && floor(r.port_range_max) == r.port_range_max
      )
    ])
    error_message = "Every rule needs whole-number port_range_min and port_range_max (a rule without a port range would open every port)."
  }

  validation {
    condition = alltrue([
      for r in var.cidr_rules :
      (r.protocol == "icmp" || r.port_range_min == null || r.port_range_max == null) ? true : (
        r.port_range_min >= 1 && r.port_range_max <= 65535 && r.port_range_min <= r.port_range_max
      )
    ])
    error_message = "For tcp and udp, ports must be within 1-65535 and port_range_min <= port_range_max."
  }

  validation {
    condition = alltrue([
      for r in var.cidr_rules :
      (r.protocol != "icmp" || r.port_range_min == null || r.port_range_max == null) ? true : (
        r.port_range_min >= 0 && r.port_range_min <= 255 && r.port_range_max >= 0 && r.port_range_max <= 255
      )
    ])
    error_message = "For icmp, port_range_min is the ICMP type and port_range_max the ICMP code, each within 0-255."
  }

  validation {
    condition     = alltrue([for r in var.cidr_rules : length(trimspace(r.description)) > 0 && length(r.description) <= 255])
    error_message = "Every rule needs a non-empty description (at most 255 characters) saying why it exists."
  }

  validation {
    condition = alltrue([
      for r in var.cidr_rules :
      can(cidrhost(r.remote_ip_prefix, 0)) && (r.ethertype == "IPv6") == strcontains(r.remote_ip_prefix, ":")
    ])
    error_message = "Every remote_ip_prefix must be a CIDR (e.g. 192.0.2.0/24, 2001:db8::/32) of the same family as the rule's ethertype; never empty (Safespring known issue: an empty prefix opens all ports)."
  }
}

variable "group_rules" {
  description = <<-EOT
    Rules whose remote is another group of this deployment (or the group itself, for traffic
    between its members), keyed "<group>/<name>"; `group` and `remote_group` are keys of
    var.groups. For icmp, the port fields are ICMP type and code.
  EOT
  type = map(object({
    group          = string
    direction      = string
    ethertype      = string
    protocol       = string
    port_range_min = number
    port_range_max = number
    remote_group   = string
    description    = string
  }))
  default = {}

  validation {
    condition     = alltrue([for k, r in var.group_rules : can(regex("^[a-z][a-z0-9-]*/[a-z0-9][a-z0-9_./:-]{0,126}$", k))])
    error_message = "Rule keys are <group>/<name>: lowercase letters, digits, '_', '.', '/', ':' and '-'."
  }

  validation {
    condition     = alltrue([for r in var.group_rules : contains(["ingress", "egress"], r.direction)])
    error_message = "Every rule's direction must be \"ingress\" or \"egress\"."
  }

  validation {
    condition     = alltrue([for r in var.group_rules : contains(["IPv4", "IPv6"], r.ethertype)])
    error_message = "Every rule's ethertype must be \"IPv4\" or \"IPv6\"."
  }

  validation {
    condition     = alltrue([for r in var.group_rules : contains(["tcp", "udp", "icmp"], r.protocol)])
    error_message = "Every rule's protocol must be \"tcp\", \"udp\" or \"icmp\" (no protocol would mean all protocols and all ports)."
  }

  validation {
    condition = alltrue([
      for r in var.group_rules :
      (r.port_range_min == null || r.port_range_max == null) ? false : (
        floor(r.port_range_min) == r.port_range_min && floor(r.port_range_max) == r.port_range_max
      )
    ])
    error_message = "Every rule needs whole-number port_range_min and port_range_max (a rule without a port range would open every port)."
  }

  validation {
    condition = alltrue([
      for r in var.group_rules :
      (r.protocol == "icmp" || r.port_range_min == null || r.port_range_max == null) ? true : (
        r.port_range_min >= 1 && r.port_range_max <= 65535 && r.port_range_min <= r.port_range_max
      )
    ])
    error_message = "For tcp and udp, ports must be within 1-65535 and port_range_min <= port_range_max."
  }

  validation {
    condition = alltrue([
      for r in var.group_rules :
      (r.protocol != "icmp" || r.port_range_min == null || r.port_range_max == null) ? true : (
        r.port_range_min >= 0 && r.port_range_min <= 255 && r.port_range_max >= 0 && r.port_range_max <= 255
      )
    ])
    error_message = "For icmp, port_range_min is the ICMP type and port_range_max the ICMP code, each within 0-255."
  }

  validation {
    condition     = alltrue([for r in var.group_rules : length(trimspace(r.description)) > 0 && length(r.description) <= 255])
    error_message = "Every rule needs a non-empty description (at most 255 characters) saying why it exists."
  }
}

variable "private_groups" {
  description = "Keys of the groups on the private network that reach the outside only through the egress proxy (GDPR Art. 32(1)(b), 44): a cidr rule giving one of them egress to a network wider than a /24 (IPv4) or /64 (IPv6) fails the plan."
  type        = list(string)
  default     = []
}
