# Individual, expiring application credentials (one per application, never shared).
module "access" {
  source      = "./modules/access"
  name_prefix = "patient-portal"
  application_credentials = {
    ci-deployer = {
      role    = "member"
      expires = "2027-09-30"
    }
  }
}

output "application_credential_ids" {
  description = "Application credential id per application."
  value       = module.access.ids
}

output "application_credential_secrets" {
  description = "Application credential secret per application: put each into that application's secret store."
  value       = module.access.secrets
  sensitive   = true
}
