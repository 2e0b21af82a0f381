# Inputs of the {{kind}} API module: one Lambda function per OpenAPI operation.

variable "api_name" {
  description = "Name of the API (also the first part of its functions' names)."
  type        = string
}

variable "openapi_spec_path" {
  description = "The API's OpenAPI document (JSON), written by the API project's openapi target."
  type        = string
}

variable "bundle_path" {
  description = "Folder of the Lambda bundle (module sources and dependencies)."
  type        = string
}

variable "bundle_zip_path" {
  description = "Where the bundle's zip archive is written."
  type        = string
}

variable "handler" {
  description = "Lambda handler, module.function."
  type        = string
}

variable "integration_pattern" {
  description = "isolated: a Lambda function per operation; shared: one function (\"$router\") for every operation."
  type        = string
  default     = "isolated"
  validation {
    condition     = contains(["isolated", "shared"], var.integration_pattern)
    error_message = "integration_pattern must be isolated or shared."
  }
}

variable "auth" {
  description = "IAM, Cognito or None."
  type        = string
  default     = "IAM"
  validation {
    condition     = contains(["IAM", "Cognito", "None"], var.auth)
    error_message = "auth must be IAM, Cognito or None."
  }
}

variable "user_pool_id" {
  description = "Cognito user pool whose tokens the API accepts (auth = Cognito). Null: the module creates one (output user_pool_id)."
  type        = string
  default     = null
}

variable "user_pool_client_ids" {
  description = "App clients of the user pool whose tokens the API accepts (auth = Cognito). Null: the module creates one (output user_pool_client_ids)."
  type        = list(string)
  default     = null
}

variable "user_pool_deletion_protection" {
  description = "Protect the user pool this module creates from deletion (destroy stops at it while true)."
  type        = bool
  default     = true
}

variable "env" {
  description = "Environment variables of every function (added to the Powertools ones)."
  type        = map(string)
  default     = {}
}

variable "memory_size" {
  description = "Memory of every function, in MB."
  type        = number
  default     = 512
}

variable "timeout" {
  description = "Timeout of every function, in seconds."
  type        = number
  default     = 30
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups (and the API's access logs), in days; 0 keeps them forever."
  type        = number
  default     = 365
  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs offers: 0 (forever), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key that encrypts the log groups (null: CloudWatch Logs' own encryption)."
  type        = string
  default     = null
}

variable "additional_policy_arns" {
  description = "IAM policies attached to the functions' role besides basic execution and X-Ray."
  type        = list(string)
  default     = []
}

variable "additional_iam_policy_statements" {
  description = "IAM statements added to the functions' role as an inline policy."
  type = list(object({
    Effect   = string
    Action   = list(string)
    Resource = list(string)
  }))
  default = []
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

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser."
  type        = list(string)
  default     = ["*"]
}

variable "cors_allow_methods" {
  description = "Methods a browser may use."
  type        = list(string)
  default     = ["*"]
}

variable "cors_allow_headers" {
  description = "Request headers a browser may send."
  type        = list(string)
  default     = ["authorization", "content-type", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token", "x-correlation-id"]
}

variable "tags" {
  description = "Tags of every resource that takes tags."
  type        = map(string)
  default     = {}
}
{{#rest}}

variable "access_logs" {
  description = "Write the stage's access logs to CloudWatch. Needs the account's API Gateway CloudWatch role (a per-region setting outside this module)."
  type        = bool
  default     = false
}

variable "waf_web_acl_arn" {
  description = "A WAFv2 web ACL to associate with the stage (null: none)."
  type        = string
  default     = null
}
{{/rest}}
