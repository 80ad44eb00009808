# The bucket that holds Terraform remote state on Safespring Storage (backend "s3" with
# use_lockfile = true). State contains secrets and the map of the whole deployment, so it gets
# the same confidentiality measures as data buckets, but its current version must never expire.
#
# Protection against deletion: force_destroy is fixed to false, so terraform destroy fails while
# any state or old version is in the bucket. prevent_destroy cannot be driven by a variable in
# Terraform, and hard-coding it here would make the module impossible to remove; see README.md.

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_145:Safespring Storage offers neither SSE-S3 nor SSE-KMS (docs.safespring.com/storage/s3-compatibility/); the state rests on Safespring's disk encryption, whose keys Safespring holds. The state holds secrets (application credentials): limit who can read this bucket.
  # checkov:skip=CKV_AWS_18:Safespring Storage answers bucket access logging with 405 (docs.safespring.com/storage/s3-compatibility/); Safespring logs each S3 request and keeps it 90 days, and gives customers their part through support (docs.safespring.com/service/audit_logging/, which lists sto1).
  # checkov:skip=CKV_AWS_144:Safespring Storage has no cross-region replication (docs.safespring.com/storage/s3-compatibility/), and no copy of the state is made on another site: versioning keeps replaced versions on the same site, and a lost state can be rebuilt with terraform import.
  # checkov:skip=CKV2_AWS_62:Safespring Storage offers no bucket event notification targets (no SNS/SQS/Lambda); nothing for Terraform to configure.
  bucket        = var.name
  force_destroy = false

  timeouts {
    create = "5m"
  }

  tags = var.tags
}

# Every state write keeps the previous state as a noncurrent version: a corrupted or wrongly
# applied state can be rolled back (Art. 32(1)(c)).
resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

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
  # checkov:skip=CKV_GDPR_10:Terraform state must never expire (losing it orphans the deployment); replaced versions expire after noncurrent_retention_days instead.
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "old-state-versions"
    status = "Enabled"

    filter {}

    # No expiration of current versions: the live state must never disappear. Each run's lock
    # file (use_lockfile) leaves a delete marker behind; remove those once nothing is under them.
    expiration {
      expired_object_delete_marker = true
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
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
