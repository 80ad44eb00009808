# A bucket whose versioning can be switched off (conditional count); every other protection on.
terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

variable "name" {
  type = string
}

variable "versioning" {
  type    = bool
  default = true
}

variable "tls_policy" {
  type    = bool
  default = true
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_145:Safespring Storage supports neither SSE-KMS nor SSE-S3.
  # checkov:skip=CKV_AWS_18:Safespring Storage answers access logging with 405 Not Allowed.
  # checkov:skip=CKV_AWS_144:Safespring Storage has no cross-region replication.
  # checkov:skip=CKV2_AWS_62:Safespring Storage offers no event notification targets.
  bucket = var.name
}

resource "aws_s3_bucket_versioning" "this" {
  count  = var.versioning ? 1 : 0
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

data "aws_iam_policy_document" "tls_only" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  count  = var.tls_policy ? 1 : 0
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.tls_only.json
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    id     = "expire"
    status = "Enabled"

    filter {}

    expiration {
      days = 365
    }
  }
}
