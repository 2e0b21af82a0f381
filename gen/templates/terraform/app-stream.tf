# {{name}}: the {{module}} FastAPI in one AWS Lambda function behind a Function URL
# that streams its responses (IAM auth), through the Lambda Web Adapter and the
# bundle's run.sh.  Every path is taken from this file's folder (path.module);
# the root module of the workspace is packages/tf-infra (`bld run tf-infra:plan`),
# which builds dist/{{root}}/bundle first.

locals {
  workspace_root = "${path.module}/{{tf_up}}"
}

variable "env" {
  description = "Environment variables of the function."
  type        = map(string)
  default     = {}
}

variable "invoker_role_names" {
  description = "IAM roles allowed to call the Function URL."
  type        = list(string)
  default     = []
}

variable "additional_policy_arns" {
  description = "IAM policies attached to the function's role."
  type        = list(string)
  default     = []
}

variable "additional_iam_policy_statements" {
  description = "IAM statements added to the function's role."
  type = list(object({
    Effect   = string
    Action   = list(string)
    Resource = list(string)
  }))
  default = []
}

variable "log_retention_days" {
  description = "Retention of the function's log group, in days (0: forever)."
  type        = number
  default     = 365
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser."
  type        = list(string)
  default     = ["*"]
}

variable "subnet_ids" {
  description = "Subnets to run the function in (empty: no VPC)."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups of the function when it runs in subnets."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags of every resource that takes tags."
  type        = map(string)
  default     = {}
}

module "api" {
  source                           = "../../../core/api/stream-api"
  api_name                         = "{{name}}"
  bundle_path                      = "${local.workspace_root}/{{dist}}/bundle"
  bundle_zip_path                  = "${local.workspace_root}/dist/packages/common/terraform/apis/{{name}}/bundle.zip"
  env                              = var.env
  invoker_role_names               = var.invoker_role_names
  additional_policy_arns           = var.additional_policy_arns
  additional_iam_policy_statements = var.additional_iam_policy_statements
  log_retention_days               = var.log_retention_days
  cors_allow_origins               = var.cors_allow_origins
  subnet_ids                       = var.subnet_ids
  security_group_ids               = var.security_group_ids
  tags                             = var.tags
}

output "api_url" {
  description = "The Function URL (IAM auth, responses streamed)."
  value       = module.api.api_url
}

output "invoke_policy_json" {
  description = "An IAM policy allowing calls to the Function URL."
  value       = module.api.invoke_policy_json
}

output "function_name" {
  description = "The function."
  value       = module.api.function_name
}

output "role_name" {
  description = "The function's IAM role."
  value       = module.api.role_name
}
