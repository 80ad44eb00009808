# Two modules that reference each other's outputs (legal in Terraform): Checkov 3.3.30 leaves
# both unrendered, so the checks must fail closed instead of passing raw `var.x` strings.
module "a" {
  source = "./modules/a"
  name   = "a"
  peer   = module.b.id
}

module "b" {
  source = "./modules/b"
  name   = "b"
  peer   = module.a.id
}
