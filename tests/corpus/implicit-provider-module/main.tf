# A child module without required_providers: Terraform looks for hashicorp/openstack, which no
# offline toolchain serves yet. HCL mode judges it all the same.
provider "openstack" {
  cloud = "safespring-sto1"
}

module "network" {
  source = "./network"
}
