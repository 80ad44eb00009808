terraform {
  backend "s3" {
    bucket         = "tfstate-clinic"
    key            = "clinic/terraform.tfstate"
    region         = "us-east-1"
    use_path_style = true
    use_lockfile   = true

    endpoints = {
      s3 = "https://s3.sto2.safedc.net"
    }
  }

  required_providers {
    openstack = {
      source = "terraform-provider-openstack/openstack"
    }
    aws = {
      source = "hashicorp/aws"
    }
  }
}

provider "openstack" {
  cloud = "safespring-sto2"
}

provider "aws" {
  region                      = "us-east-1"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {
    s3 = "https://s3.sto2.safedc.net"
  }
}

provider "aws" {
  alias                       = "backup"
  region                      = "us-east-1"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {
    s3 = "https://s3.sto1.safedc.net"
  }
}

# ---- maps of maps with try(), a map(map(string)) variable -----------------------------------

module "edge" {
  source               = "./modules/secgroup"
  name                 = "edge"
  delete_default_rules = true
  rules = {
    ssh_world = {
      direction   = "ingress"
      ip_protocol = "tcp"
      from_port   = "22"
      to_port     = "22"
      cidr        = "0.0.0.0/0"
    }
    https_world = {
      ip_protocol = "tcp"
      from_port   = "443"
      to_port     = "443"
      cidr        = "0.0.0.0/0"
    }
    peers = {
      ip_protocol     = "tcp"
      from_port       = "5432"
      to_port         = "5432"
      remote_group_id = "self"
    }
  }
}

# ---- for_each over locals ----------------------------------------------------------------------

locals {
  app = {
    web = {
      flavor    = "b2.c2r4"
      disk_size = 20
    }
    cache = {
      flavor    = "l2.c2r4.100"
      disk_size = 0
    }
  }
}

resource "openstack_compute_servergroup_v2" "app" {
  name     = "app"
  policies = ["anti-affinity"]
}

resource "openstack_compute_instance_v2" "app" {
  for_each    = local.app
  name        = "app-${each.key}"
  flavor_name = each.value.flavor
  key_pair    = "anna"
  user_data   = file("${path.module}/cloud-init/logs.yaml")
  metadata = {
    ssb_classification = "personal"
    ssb_measures       = "local-logs,logins"
  }

  scheduler_hints {
    group = openstack_compute_servergroup_v2.app.id
  }

  dynamic "block_device" {
    for_each = each.value.disk_size > 0 ? [each.value.disk_size] : []
    content {
      uuid                  = "8f4d3f0c-0000-4000-8000-000000000001"
      source_type           = "image"
      destination_type      = "volume"
      boot_index            = 0
      volume_size           = block_device.value
      delete_on_termination = true
    }
  }
}

# ---- dynamic blocks (a module with count) --------------------------------------------------------

resource "openstack_compute_servergroup_v2" "workers" {
  name     = "workers"
  policies = ["anti-affinity"]
}

module "workers" {
  source         = "./modules/instance"
  count          = 2
  name           = "worker-${count.index + 1}"
  flavor         = "b2.c2r4"
  disk_size      = count.index == 0 ? 20 : 0
  servergroup_id = openstack_compute_servergroup_v2.workers.id
  user_data      = file("${path.module}/cloud-init/logs.yaml")
}

# ---- conditional count -------------------------------------------------------------------------

module "uploads" {
  source     = "./modules/bucket"
  name       = "clinic-uploads"
  versioning = false
}

module "exports" {
  source     = "./modules/bucket"
  name       = "clinic-exports"
  versioning = true
}

# ---- nested modules ----------------------------------------------------------------------------

module "platform" {
  source = "./modules/platform"
  prefix = "clinic"
}

# ---- null values -------------------------------------------------------------------------------

resource "openstack_networking_secgroup_v2" "admin" {
  name                 = "admin"
  delete_default_rules = true
}

resource "openstack_networking_secgroup_rule_v2" "admin_open" {
  security_group_id = openstack_networking_secgroup_v2.admin.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 22
  port_range_max    = 22
  remote_ip_prefix  = null
  remote_group_id   = null
}

resource "openstack_networking_secgroup_rule_v2" "admin_network" {
  security_group_id = openstack_networking_secgroup_v2.admin.id
  direction         = "ingress"
  ethertype         = "IPv4"
  protocol          = "tcp"
  port_range_min    = 22
  port_range_max    = 22
  remote_ip_prefix  = "192.0.2.0/24"
  remote_group_id   = null
}

resource "openstack_identity_application_credential_v3" "forever" {
  name         = "ci-forever"
  roles        = ["member"]
  unrestricted = false
  expires_at   = null
}

resource "openstack_identity_application_credential_v3" "ci" {
  name         = "ci"
  roles        = ["member"]
  unrestricted = false
  expires_at   = "2027-01-31T23:59:59Z"
}

# ---- map(map(string)) volumes ------------------------------------------------------------------

variable "disks" {
  type = map(map(string))
  default = {
    db = {
      size           = "50"
      type           = "fast"
      classification = "personal"
    }
    scratch = {
      size           = "10"
      type           = "large"
      classification = "non-personal"
    }
  }
}

resource "openstack_blockstorage_volume_v3" "disk" {
  for_each    = var.disks
  name        = "clinic-${each.key}"
  size        = tonumber(each.value.size)
  volume_type = each.value.type
  metadata = {
    ssb_classification = each.value.classification
    ssb_encryption     = lookup(each.value, "encryption", null)
  }
}

# The deployment's backups (another site, write-once), so volumes have somewhere to go.
module "backup" {
  source = "../../../modules/backup-bucket"
  providers = {
    aws = aws.backup
  }
  name = "clinic-backup"
}
