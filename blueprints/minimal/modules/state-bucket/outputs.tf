output "id" {
  description = "Bucket name (the aws provider uses the name as the id)."
  value       = aws_s3_bucket.this.id
}

output "arn" {
  description = "Bucket ARN (arn:aws:s3:::NAME)."
  value       = aws_s3_bucket.this.arn
}

output "name" {
  description = "Bucket name, for the bucket argument of backend \"s3\"."
  value       = aws_s3_bucket.this.bucket
}
