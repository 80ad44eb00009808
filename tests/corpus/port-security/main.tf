# A port (and a network) with port security off: no security group applies to it.
provider "openstack" {
  cloud = "safespring-sto1"
}

resource "openstack_networking_network_v2" "appliances" {
  name                  = "appliances"
  port_security_enabled = false
}

resource "openstack_networking_network_v2" "apps" {
  name = "apps"
}

resource "openstack_networking_port_v2" "router" {
  name                  = "router"
  network_id            = openstack_networking_network_v2.apps.id
  port_security_enabled = false
  no_security_groups    = true
}

resource "openstack_networking_port_v2" "app" {
  name       = "app"
  network_id = openstack_networking_network_v2.apps.id
}
