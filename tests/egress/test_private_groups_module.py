"""The security-groups module refuses world egress for a group on the private network."""

from __future__ import annotations

from pathlib import Path

from generator import api
from tests.conftest import ROOT

MAIN = """
terraform {
  required_providers {
    openstack = {
      source = "terraform-provider-openstack/openstack"
    }
  }
}

provider "openstack" {
  cloud = "safespring-sto2"
}

module "security_groups" {
  source         = "%s"
  name_prefix    = "portal"
  groups         = { db = "Instance group db" }
  private_groups = ["db"]
  cidr_rules = {
    "db/egress-tcp-443-world-ipv4" = {
      group            = "db"
      direction        = "egress"
      ethertype        = "IPv4"
      protocol         = "tcp"
      port_range_min   = 443
      port_range_max   = 443
      remote_ip_prefix = "0.0.0.0/0"
      description      = "HTTPS to anywhere"
    }
  }
}
"""


def test_world_egress_for_a_private_group_fails_the_plan(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(MAIN % (ROOT / "modules" / "security-groups"))
    checks, _ = api.plan_data(tmp_path, offline=True)
    failed = [s for s in checks.steps if not s.ok]
    assert failed, "the plan of a world-egress rule for a private group succeeded"
    output = " ".join("\n".join(s.output for s in failed).split())  # Terraform wraps lines
    assert "reaches the outside only through the egress proxy" in output, output[-2000:]
    assert "db/egress-tcp-443-world-ipv4" in output
