output "ids" {
  description = "Application credential id per application (use it with auth_type v3applicationcredential)."
  value       = { for name, c in openstack_identity_application_credential_v3.this : name => c.id }
}

output "secrets" {
  description = "Application credential secret per application. Sensitive: hand it to the application's secret store, never to a file in git."
  value       = { for name, c in openstack_identity_application_credential_v3.this : name => c.secret }
  sensitive   = true
}

output "expires_at" {
  description = "When each credential stops working."
  value       = { for name, c in openstack_identity_application_credential_v3.this : name => c.expires_at }
}
