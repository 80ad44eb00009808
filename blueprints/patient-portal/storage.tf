# Safespring Storage buckets of patient-portal in sto2: versioned,
# TLS-only, lifecycle expiration (storage limitation), never public.

module "bucket_exports" {
  source         = "./modules/bucket"
  name           = "patient-portal-exports"
  retention_days = 2555
  object_lock = {
    mode = "GOVERNANCE"
    days = 30
  }
  tags = {
    ssb_deployment     = "patient-portal"
    ssb_classification = "personal-special"
    ssb_measures       = "lifecycle-expiration no-public-access object-lock tls-only versioning"
  }
}

# Backups of patient-portal go to another site, sto1: restic encrypts them on
# the instances (key bound to your Tang servers); every version is write-once for lock_days
# after it is written (COMPLIANCE: see BACKUP.md for what that protects and what not).
module "backup_bucket" {
  source = "./modules/backup-bucket"
  providers = {
    aws = aws.backup
  }
  name                      = "patient-portal-backup"
  classification            = "personal-special"
  lock_mode                 = "COMPLIANCE"
  lock_days                 = 14
  noncurrent_retention_days = 30
  tags = {
    ssb_deployment = "patient-portal"
  }
}
