# Providers elsewhere than Safespring: a cloud named in clouds.yaml (an EU cloud, which the code
# cannot show), one in Switzerland (a third country), the default provider configured by the
# environment (no block at all), and AWS S3 in Stockholm and in Virginia.
provider "openstack" {
  alias = "partner"
  cloud = "partner-eu"
}

provider "openstack" {
  alias    = "geneva"
  auth_url = "https://api.pub1.infomaniak.cloud/identity"
}

provider "aws" {
  alias  = "stockholm"
  region = "eu-north-1"
}

provider "aws" {
  alias  = "virginia"
  region = "us-east-1"
}

resource "openstack_networking_secgroup_v2" "env" {
  name                 = "env"
  delete_default_rules = true
}

resource "openstack_networking_secgroup_v2" "partner" {
  provider             = openstack.partner
  name                 = "partner"
  delete_default_rules = true
}

resource "openstack_networking_secgroup_v2" "geneva" {
  provider             = openstack.geneva
  name                 = "geneva"
  delete_default_rules = true
}

# Example code that leaves the site to its user: a placeholder auth URL, and a host reserved for
# documentation. Neither says where data goes.
provider "openstack" {
  alias    = "template"
  auth_url = "https://<your-keystone>:5000/v3"
}

provider "openstack" {
  alias    = "documented"
  auth_url = "https://keystone.example.com:5000/v3"
}

resource "openstack_networking_secgroup_v2" "template" {
  provider             = openstack.template
  name                 = "template"
  delete_default_rules = true
}

resource "openstack_networking_secgroup_v2" "documented" {
  provider             = openstack.documented
  name                 = "documented"
  delete_default_rules = true
}
