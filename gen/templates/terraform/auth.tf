# Cognito (auth = Cognito): the user's own pool and app clients when given,
# else a pool and a client made here.  Either way the outputs name them.

locals {
  cognito       = var.auth == "Cognito"
  create_pool   = local.cognito && var.user_pool_id == null
  create_client = local.cognito && var.user_pool_client_ids == null
  user_pool_id  = local.create_pool ? one(aws_cognito_user_pool.users[*].id) : (local.cognito ? var.user_pool_id : null)
  user_pool_arn = local.create_pool ? one(aws_cognito_user_pool.users[*].arn) : (
    local.cognito ? "arn:${data.aws_partition.current.partition}:cognito-idp:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:userpool/${var.user_pool_id}" : null
  )
  user_pool_arns       = local.cognito ? [local.user_pool_arn] : []
  user_pool_client_ids = local.create_client ? aws_cognito_user_pool_client.client[*].id : (local.cognito ? var.user_pool_client_ids : [])
}

resource "aws_cognito_user_pool" "users" {
  count                    = local.create_pool ? 1 : 0
  name                     = "${var.api_name}-users"
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]
  deletion_protection      = var.user_pool_deletion_protection ? "ACTIVE" : "INACTIVE"
  password_policy {
    minimum_length    = 12
    require_lowercase = true
    require_uppercase = true
    require_numbers   = true
    require_symbols   = true
  }
  tags = var.tags
}

resource "aws_cognito_user_pool_client" "client" {
  count                         = local.create_client ? 1 : 0
  name                          = "${var.api_name}-client"
  user_pool_id                  = local.user_pool_id
  generate_secret               = false
  prevent_user_existence_errors = "ENABLED"
  explicit_auth_flows           = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
}

output "user_pool_id" {
  description = "The Cognito user pool the API accepts tokens of: user_pool_id, or the pool made here (null unless auth = Cognito)."
  value       = local.user_pool_id
}

output "user_pool_arn" {
  description = "ARN of that user pool."
  value       = local.user_pool_arn
}

output "user_pool_client_ids" {
  description = "The app clients the API accepts tokens of: user_pool_client_ids, or the client made here."
  value       = local.user_pool_client_ids
}
