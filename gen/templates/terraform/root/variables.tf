variable "aws_region" {
  description = "AWS region to deploy to (null: the AWS_REGION of the environment or the profile's)."
  type        = string
  default     = null
}

variable "environment" {
  description = "Name of the environment (dev, staging, prod): a tag of every resource."
  type        = string
}

variable "tags" {
  description = "Tags of every resource, besides Environment."
  type        = map(string)
  default     = {}
}
