# A platform module that holds the storage of a deployment in a module of its own.
variable "prefix" {
  type = string
}

module "storage" {
  source  = "../storage"
  buckets = { reports = false, archive = true }
  prefix  = var.prefix
}
