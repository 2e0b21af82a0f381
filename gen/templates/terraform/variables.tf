# Inputs of the {{kind}} API module: one Lambda function per OpenAPI operation.

variable "api_name" {
  description = "Name of the API (also the prefix of its Lambda functions)."
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

variable "handler" {
  description = "Lambda handler, module.function."
  type        = string
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

variable "environment" {
  description = "Environment variables of every function."
  type        = map(string)
  default     = {}
}
