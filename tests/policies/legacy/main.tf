# Resources older code still uses: Nova security groups with inline rules, v2 volumes.
resource "openstack_compute_secgroup_v2" "pass" {
  name        = "pass"
  description = "https, ping and the members"
  rule {
    from_port   = 443
    to_port     = 443
    ip_protocol = "tcp"
    cidr        = "0.0.0.0/0"
  }
  rule {
    from_port   = -1
    to_port     = -1
    ip_protocol = "icmp"
    cidr        = "0.0.0.0/0"
  }
  rule {
    from_port   = 1
    to_port     = 65535
    ip_protocol = "tcp"
    self        = true
  }
}

resource "openstack_compute_secgroup_v2" "fail_postgres_world" {
  name        = "fail-postgres-world"
  description = "postgres to the world"
  rule {
    from_port   = 5432
    to_port     = 5432
    ip_protocol = "tcp"
    cidr        = "0.0.0.0/0"
  }
}

resource "openstack_compute_secgroup_v2" "fail_no_remote" {
  name        = "fail-no-remote"
  description = "a rule with no remote"
  rule {
    from_port   = 22
    to_port     = 22
    ip_protocol = "tcp"
  }
}

resource "openstack_blockstorage_volume_v2" "pass_not_personal" {
  size     = 10
  metadata = { ssb_classification = "non-personal" }
}

resource "openstack_blockstorage_volume_v2" "fail_personal" {
  size     = 10
  metadata = { ssb_classification = "personal" }
}
