output "aws_account_id" {
  description = "The account deployed to."
  value       = data.aws_caller_identity.current.account_id
}

output "aws_region" {
  description = "The region deployed to."
  value       = data.aws_region.current.id
}

output "environment" {
  description = "The environment deployed."
  value       = var.environment
}
