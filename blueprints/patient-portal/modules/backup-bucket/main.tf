# The target of the instances' restic backups: one bucket on the backup site (another Safespring
# site than the one the data lives on), versioned with a default Object Lock, never public,
# TLS only. Current object versions never expire: restic pack files live as long as any
# snapshot needs them, and expiring one would corrupt the repository. Storage limitation comes
# from restic's keep policy (forget + prune); what restic deletes becomes a noncurrent version
# that expires after noncurrent_retention_days.

locals {
  measures = join(" ", [
    "versioning",
    "object-lock-${lower(var.lock_mode)}",
    "no-public-access",
    "tls-only",
    "noncurrent-expiration",
    "abort-multipart",
  ])

  tags = merge(var.tags, {
    ssb_role           = "backup"
    ssb_classification = var.classification
    ssb_measures       = local.measures
  })
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_145:Safespring Storage offers neither SSE-S3 nor SSE-KMS (docs.safespring.com/storage/s3-compatibility/); restic encrypts every object it writes here before upload, with a repository key bound to the customer's Tang servers.
  # checkov:skip=CKV_AWS_18:Safespring Storage answers bucket access logging with 405 (docs.safespring.com/storage/s3-compatibility/); Safespring logs each S3 request and keeps it 90 days, and gives customers their part through support (docs.safespring.com/service/audit_logging/, which lists sto1).
  # checkov:skip=CKV_AWS_144:Safespring Storage has no cross-region replication (docs.safespring.com/storage/s3-compatibility/); this bucket is itself the copy on another site: it holds the restic backups of the instances' data volumes, on backup_site (CKV_GDPR_14 checks the site).
  # checkov:skip=CKV2_AWS_62:Safespring Storage offers no bucket event notification targets (no SNS/SQS/Lambda); nothing for Terraform to configure.
  bucket              = var.name
  object_lock_enabled = true
  # Backups are never deleted by terraform destroy; a non-empty bucket makes destroy fail.
  force_destroy = false

  timeouts {
    create = "5m"
  }

  tags = local.tags
}

# Object Lock requires versioning; versioning also turns every delete (restic prune, or an
# attacker) into a delete marker, leaving the version recoverable (Art. 32(1)(c)).
resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    default_retention {
      mode = var.lock_mode
      days = var.lock_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Deny every request that does not arrive over TLS. Safespring's endpoints already refuse plain
# HTTP; the policy keeps the bucket TLS-only should a plain endpoint ever be put in front of it.
resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource = [
          aws_s3_bucket.this.arn,
          "${aws_s3_bucket.this.arn}/*",
        ]
        Condition = {
          Bool = {
            "aws:SecureTransport" = "false"
          }
        }
      },
    ]
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  # checkov:skip=CKV_GDPR_10:Current versions never expire: restic pack files must live as long as a snapshot needs them; storage limitation comes from restic's forget/prune (the spec's keep policy) plus noncurrent-version expiration here.
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "restic-deleted-versions"
    status = "Enabled"

    filter {}

    # No expiration of current versions (see the top of this file). Delete markers whose
    # versions have all expired are removed, so pruned keys do not pile up.
    expiration {
      expired_object_delete_marker = true
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_days
    }
  }

  # The provider polls until it has read the same configuration back 10 times in a row
  # (about a minute); leave room for a slow endpoint.
  timeouts {
    create = "5m"
    update = "5m"
  }

  depends_on = [aws_s3_bucket_versioning.this]
}
