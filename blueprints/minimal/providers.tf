# The OpenStack provider reads credentials from clouds.yaml (an individual, expiring
# application credential); none are ever written here. See clouds.yaml.example.
provider "openstack" {
  cloud = "safespring-sto1"
}
