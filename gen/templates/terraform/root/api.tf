# The {{name}} API ({{kind}}, auth {{auth}}): its module in common-terraform.

module "{{snake}}" {
  source = "../../common/terraform/src/app/apis/{{name}}"
  tags   = local.tags
  env = {
    ENVIRONMENT = var.environment
  }
}

output "{{snake}}_url" {
  description = "Base URL of the {{name}} API."
  value       = module.{{snake}}.api_url
}
{{#cognito}}

output "{{snake}}_user_pool_id" {
  description = "The user pool the {{name}} API accepts tokens of."
  value       = module.{{snake}}.user_pool_id
}

output "{{snake}}_user_pool_client_ids" {
  description = "The app clients the {{name}} API accepts tokens of."
  value       = module.{{snake}}.user_pool_client_ids
}
{{/cognito}}
