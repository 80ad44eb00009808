"""The security-groups module refuses world egress for a group on the private network."""

from __future__ import annotations

from pathlib import Path

from generator import api
from tests.conftest import ROOT

RULE = """
    "db/%s" = {
      group            = "db"
      direction        = "egress"
      ethertype        = "%s"
      protocol         = "tcp"
      port_range_min   = 443
      port_range_max   = 443
      remote_ip_prefix = "%s"
      description      = "HTTPS out"
    }
"""

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
  cidr_rules = {%s
  }
}
"""


def _plan(tmp_path: Path, rules: list[tuple[str, str, str]]) -> str:
    """The combined output of the failed steps of an offline plan ('' when it succeeded)."""
    text = "".join(RULE % rule for rule in rules)
    (tmp_path / "main.tf").write_text(MAIN % (ROOT / "modules" / "security-groups", text))
    checks, _ = api.plan_data(tmp_path, offline=True)
    failed = [s for s in checks.steps if not s.ok]
    return " ".join("\n".join(s.output for s in failed).split())  # Terraform wraps lines


def test_world_egress_for_a_private_group_fails_the_plan(tmp_path: Path) -> None:
    output = _plan(tmp_path, [("egress-tcp-443-world-ipv4", "IPv4", "0.0.0.0/0")])
    assert "reaches the outside only through the egress proxy" in output, output[-2000:]
    assert "db/egress-tcp-443-world-ipv4" in output


def test_the_world_in_two_halves_fails_the_plan_too(tmp_path: Path) -> None:
    """0.0.0.0/1 and 128.0.0.0/1 are the world as much as 0.0.0.0/0 is: the rule is judged by
    its prefix length (wider than /24, or /64 for IPv6, fails), not by the string."""
    output = _plan(tmp_path, [("low-half", "IPv4", "0.0.0.0/1"),
                              ("high-half", "IPv4", "128.0.0.0/1"),
                              ("v6-half", "IPv6", "8000::/1")])
    for key in ("db/low-half", "db/high-half", "db/v6-half"):
        assert key in output, output[-3000:]
    assert "reaches the outside only through the egress proxy" in output


def test_a_narrow_egress_rule_still_plans(tmp_path: Path) -> None:
    """One host or a /24 (a customer's own service) is not world egress."""
    assert _plan(tmp_path, [("one-host", "IPv4", "192.0.2.10/32"),
                            ("a-subnet", "IPv4", "198.51.100.0/24"),
                            ("v6-net", "IPv6", "2001:db8:1::/64")]) == ""
