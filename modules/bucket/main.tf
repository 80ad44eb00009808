# One Safespring Storage (Ceph RGW, S3 API) bucket with the measures that platform supports:
# versioning, optional Object Lock, Block Public Access, a TLS-only bucket policy and lifecycle
# expiration. Nothing here asks for what Safespring Storage rejects (SSE-S3/SSE-KMS, access
# logging, replication, storage classes, MFA delete).

locals {
  object_lock_enabled       = var.object_lock != null
  noncurrent_retention_days = coalesce(var.noncurrent_retention_days, var.retention_days)
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_145:Safespring Storage offers neither SSE-S3 nor SSE-KMS (docs.safespring.com/storage/s3-compatibility/); objects rest on Safespring's disk encryption, whose keys Safespring holds. Nothing in this blueprint encrypts objects before upload or enforces it: an application that needs that must do it itself.
  # checkov:skip=CKV_AWS_18:Safespring Storage answers bucket access logging with 405 (docs.safespring.com/storage/s3-compatibility/); Safespring logs each S3 request and keeps it 90 days, and gives customers their part through support (docs.safespring.com/service/audit_logging/, which lists sto1).
  # checkov:skip=CKV_AWS_144:Safespring Storage has no cross-region replication (docs.safespring.com/storage/s3-compatibility/), and this blueprint makes no copy of the bucket on another site: its backups copy the instances' data volumes, not buckets. Versioning keeps earlier versions on the same site only; the compliance report shows this gap under GDPR-BAK-1.
  # checkov:skip=CKV2_AWS_62:Safespring Storage offers no bucket event notification targets (no SNS/SQS/Lambda); nothing for Terraform to configure.
  bucket              = var.name
  object_lock_enabled = local.object_lock_enabled
  force_destroy       = var.force_destroy

  timeouts {
    create = "5m"
  }

  tags = var.tags
}

# Versioning is always on: an overwrite or delete keeps the previous version until the lifecycle
# rule removes it (recovery, Art. 32(1)(c)). Object Lock requires it.
resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_object_lock_configuration" "this" {
  count = local.object_lock_enabled ? 1 : 0

  bucket = aws_s3_bucket.this.id

  rule {
    default_retention {
      mode = var.object_lock.mode
      days = var.object_lock.days
    }
  }

  lifecycle {
    # A lock longer than the retention would keep objects past their deletion date.
    precondition {
      condition     = var.object_lock.days <= var.retention_days
      error_message = "object_lock.days must not exceed retention_days (storage limitation, GDPR Art. 5(1)(e))."
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = var.public_read ? false : true
  ignore_public_acls      = true
  restrict_public_buckets = var.public_read ? false : true
}

# Deny every request that does not arrive over TLS. Safespring's endpoints already refuse plain
# HTTP; the policy keeps the bucket TLS-only should a plain endpoint ever be put in front of it.
resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
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
      ], var.public_read ? [
      {
        Sid       = "PublicReadOverTls"
        Effect    = "Allow"
        Principal = "*"
        Action    = "s3:GetObject"
        Resource  = "${aws_s3_bucket.this.arn}/*"
      },
    ] : [])
  })

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "storage-limitation"
    status = "Enabled"

    filter {}

    expiration {
      days = var.retention_days
    }

    noncurrent_version_expiration {
      noncurrent_days = local.noncurrent_retention_days
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
