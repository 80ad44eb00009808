# A module called once with literal inputs: Checkov expands for_each over a map of objects.
module "sg" {
  source = "./modules/sg"
  rules = {
    https-world = { port = 443, remote_ip_prefix = "0.0.0.0/0" }
    ssh-world   = { port = 22, remote_ip_prefix = "0.0.0.0/0" }
  }
}
