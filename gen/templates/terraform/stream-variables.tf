# Inputs of the streaming API module: the whole FastAPI in one Lambda function
# behind a Function URL that streams its responses.

variable "api_name" {
  description = "Name of the API (also its function's name)."
  type        = string
}

variable "bundle_path" {
  description = "Folder of the Lambda bundle (module sources, dependencies and run.sh)."
  type        = string
}

variable "bundle_zip_path" {
  description = "Where the bundle's zip archive is written."
  type        = string
}

variable "env" {
  description = "Environment variables of the function (added to the adapter's and Powertools' ones)."
  type        = map(string)
  default     = {}
}

variable "memory_size" {
  description = "Memory of the function, in MB."
  type        = number
  default     = 512
}

variable "timeout" {
  description = "Timeout of the function, in seconds (a stream ends with it)."
  type        = number
  default     = 30
}

variable "web_adapter_layer_arn" {
  description = "The AWS Lambda Web Adapter layer (null: AWS's x86_64 layer, version 24, in the function's region)."
  type        = string
  default     = null
}

variable "invoker_role_names" {
  description = "IAM roles allowed to call the Function URL (lambda:InvokeFunctionUrl)."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of the function's log group, in days; 0 keeps it forever."
  type        = number
  default     = 365
  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs offers: 0 (forever), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key that encrypts the log group (null: CloudWatch Logs' own encryption)."
  type        = string
  default     = null
}

variable "additional_policy_arns" {
  description = "IAM policies attached to the function's role besides basic execution and X-Ray."
  type        = list(string)
  default     = []
}

variable "additional_iam_policy_statements" {
  description = "IAM statements added to the function's role as an inline policy."
  type = list(object({
    Effect   = string
    Action   = list(string)
    Resource = list(string)
  }))
  default = []
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

variable "cors_allow_origins" {
  description = "Origins allowed to call the Function URL from a browser."
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
