# Resources older code still uses: a v2 volume and a Nova security group whose inline rules open
# PostgreSQL to the whole internet (next to one that is fine).
provider "openstack" {
  cloud = "safespring-sto1"
}

resource "openstack_blockstorage_volume_v2" "records" {
  name = "records"
  size = 50
}

resource "openstack_compute_secgroup_v2" "db" {
  name        = "db"
  description = "database"

  rule {
    from_port   = 5432
    to_port     = 5432
    ip_protocol = "tcp"
    cidr        = "0.0.0.0/0"
  }

  rule {
    from_port   = -1
    to_port     = -1
    ip_protocol = "icmp"
    cidr        = "0.0.0.0/0"
  }
}

resource "openstack_compute_secgroup_v2" "web" {
  name        = "web"
  description = "web"

  rule {
    from_port   = 443
    to_port     = 443
    ip_protocol = "tcp"
    cidr        = "0.0.0.0/0"
  }

  rule {
    from_port   = 1
    to_port     = 65535
    ip_protocol = "tcp"
    self        = true
  }
}
