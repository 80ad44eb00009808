output "id" {
  description = "Bucket name (the aws provider uses the name as the id)."
  value       = aws_s3_bucket.this.id
}

output "arn" {
  description = "Bucket ARN (arn:aws:s3:::NAME), for bucket policies in the calling root."
  value       = aws_s3_bucket.this.arn
}

output "name" {
  description = "Bucket name, for the instances' backup configuration."
  value       = aws_s3_bucket.this.bucket
}

output "measures" {
  description = "The measures this bucket implements, as written to its ssb_measures tag."
  value       = local.measures
}
