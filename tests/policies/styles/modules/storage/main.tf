# Buckets by name; the map's value says whether the bucket gets its TLS-only policy.
variable "prefix" {
  type = string
}

variable "buckets" {
  type = map(bool)
}

module "bucket" {
  source     = "../bucket"
  for_each   = var.buckets
  name       = "${var.prefix}-${each.key}"
  tls_policy = each.value
}
