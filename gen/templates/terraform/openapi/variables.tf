variable "openapi_spec_path" {
  description = "The API's OpenAPI document (JSON)."
  type        = string
}

variable "api_name" {
  description = "Name of the API: the first part of every function name."
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
  description = "IAM, Cognito or None: the security of every operation in the REST body."
  type        = string
  default     = "IAM"
  validation {
    condition     = contains(["IAM", "Cognito", "None"], var.auth)
    error_message = "auth must be IAM, Cognito or None."
  }
}

variable "invoke_arns" {
  description = "Invoke ARN of each function, by the keys of the output functions (for the REST body)."
  type        = map(string)
  default     = {}
}

variable "user_pool_arns" {
  description = "Cognito user pools whose tokens the REST API accepts (auth = Cognito)."
  type        = list(string)
  default     = []
}

variable "account_id" {
  description = "The AWS account whose principals the REST API's resource policy lets in (auth = IAM)."
  type        = string
  default     = ""
}

variable "partition" {
  description = "The AWS partition of that account (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"
}

variable "cors_allow_origins" {
  description = "Origins allowed to call the API from a browser."
  type        = list(string)
  default     = ["*"]
}

variable "cors_allow_methods" {
  description = "Methods named in preflight answers."
  type        = list(string)
  default     = ["*"]
}

variable "cors_allow_headers" {
  description = "Request headers named in preflight answers."
  type        = list(string)
  default     = ["authorization", "content-type", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token", "x-correlation-id"]
}
