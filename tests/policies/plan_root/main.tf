# Plan mode of the per-check fixtures (tests/policies/test_checks.py): one root that calls the
# fixtures of ../fixtures as modules, so one terraform init and one plan cover them all.
# Fixtures whose check looks at a root module (providers, backend, the deployment's other
# resources, user data files: CKV_GDPR_11, 12, 14, 16, 17, 22, 25, 26, 27) are planned as roots
# of their own. Inputs a fixture
# leaves without a value (unresolved in HCL mode) get the insecure value here: the plan then
# shows the problem by name instead.
terraform {
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

module "ckv_gdpr_1" {
  source     = "../fixtures/ckv_gdpr_1"
  encryption = "none"
}

module "ckv_gdpr_2" {
  source = "../fixtures/ckv_gdpr_2"
}

module "ckv_gdpr_3" {
  source = "../fixtures/ckv_gdpr_3"
}

module "ckv_gdpr_4" {
  source = "../fixtures/ckv_gdpr_4"
}

module "ckv_gdpr_5" {
  source = "../fixtures/ckv_gdpr_5"
}

module "ckv_gdpr_6" {
  source = "../fixtures/ckv_gdpr_6"
}

module "ckv_gdpr_7" {
  source = "../fixtures/ckv_gdpr_7"
}

module "ckv_gdpr_8" {
  source      = "../fixtures/ckv_gdpr_8"
  public_read = true
}

module "ckv_gdpr_9" {
  source = "../fixtures/ckv_gdpr_9"
}

module "ckv_gdpr_10" {
  source = "../fixtures/ckv_gdpr_10"
}

module "ckv_gdpr_13" {
  source = "../fixtures/ckv_gdpr_13"
}

module "ckv_gdpr_15" {
  source = "../fixtures/ckv_gdpr_15"
}

module "ckv_gdpr_18" {
  source = "../fixtures/ckv_gdpr_18"
}

module "ckv_gdpr_19" {
  source = "../fixtures/ckv_gdpr_19"
}

module "ckv_gdpr_20" {
  source = "../fixtures/ckv_gdpr_20"
}

module "ckv_gdpr_21" {
  source = "../fixtures/ckv_gdpr_21"
}

module "ckv_gdpr_29" {
  source = "../fixtures/ckv_gdpr_29"
}

module "ckv_gdpr_30" {
  source = "../fixtures/ckv_gdpr_30"
}

module "ckv_gdpr_31" {
  source = "../fixtures/ckv_gdpr_31"
}
