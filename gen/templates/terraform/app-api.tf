# {{name}}: the {{module}} FastAPI on AWS Lambda behind an API Gateway {{kind}} API
# (auth: {{auth}}), {{#shared}}one function for every operation{{/shared}}{{^shared}}one function per operation{{/shared}} of its OpenAPI document.
# Every path is taken from this file's folder (path.module), so the module
# works from any root module; the root module of the workspace is
# packages/tf-infra (`bld run tf-infra:plan`), which builds
# dist/{{root}}/openapi and /bundle first.

locals {
  workspace_root = "${path.module}/{{tf_up}}"
}
{{#cognito}}

variable "user_pool_id" {
  description = "Your Cognito user pool (null: the module creates one; see output user_pool_id)."
  type        = string
  default     = null
}

variable "user_pool_client_ids" {
  description = "App clients of the pool whose tokens the API accepts (null: the module creates one)."
  type        = list(string)
  default     = null
}

variable "user_pool_deletion_protection" {
  description = "Protect the user pool the module creates from deletion (destroy stops at it while true)."
  type        = bool
  default     = true
}
{{/cognito}}

variable "env" {
  description = "Environment variables of every function."
  type        = map(string)
  default     = {}
}

variable "additional_policy_arns" {
  description = "IAM policies attached to the functions' role."
  type        = list(string)
  default     = []
}

variable "additional_iam_policy_statements" {
  description = "IAM statements added to the functions' role."
  type = list(object({
    Effect   = string
    Action   = list(string)
    Resource = list(string)
  }))
  default = []
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups, in days (0: forever)."
  type        = number
  default     = 365
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser."
  type        = list(string)
  default     = ["*"]
}

variable "subnet_ids" {
  description = "Subnets to run the functions in (empty: no VPC)."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups of the functions when they run in subnets."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags of every resource that takes tags."
  type        = map(string)
  default     = {}
}

module "api" {
  source                           = "../../../core/api/{{kind_dir}}"
  api_name                         = "{{name}}"
  openapi_spec_path                = "${local.workspace_root}/{{dist}}/openapi/openapi.json"
  bundle_path                      = "${local.workspace_root}/{{dist}}/bundle"
  bundle_zip_path                  = "${local.workspace_root}/dist/packages/common/terraform/apis/{{name}}/bundle.zip"
  handler                          = "{{module}}.main.handler"
  integration_pattern              = "{{#shared}}shared{{/shared}}{{^shared}}isolated{{/shared}}"
  auth                             = "{{auth}}"
{{#cognito}}
  user_pool_id                     = var.user_pool_id
  user_pool_client_ids             = var.user_pool_client_ids
  user_pool_deletion_protection    = var.user_pool_deletion_protection
{{/cognito}}
  env                              = var.env
  additional_policy_arns           = var.additional_policy_arns
  additional_iam_policy_statements = var.additional_iam_policy_statements
  log_retention_days               = var.log_retention_days
  cors_allow_origins               = var.cors_allow_origins
  subnet_ids                       = var.subnet_ids
  security_group_ids               = var.security_group_ids
  tags                             = var.tags
}

output "api_url" {
  description = "Base URL of the API."
  value       = module.api.api_url
}

output "api_execution_arn" {
  description = "Execution ARN of the API."
  value       = module.api.api_execution_arn
}

output "execute_api_arn" {
  description = "ARN pattern to grant execute-api:Invoke on every operation (IAM auth)."
  value       = module.api.execute_api_arn
}

output "function_names" {
  description = "Lambda function of each operation, by \"METHOD /path\"."
  value       = module.api.function_names
}

output "role_name" {
  description = "The functions' IAM role."
  value       = module.api.role_name
}
{{#cognito}}

output "user_pool_id" {
  description = "The user pool the API accepts tokens of (given or created)."
  value       = module.api.user_pool_id
}

output "user_pool_client_ids" {
  description = "The app clients the API accepts tokens of (given or created)."
  value       = module.api.user_pool_client_ids
}
{{/cognito}}
