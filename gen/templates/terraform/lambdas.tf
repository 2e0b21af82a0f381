# The operations of the OpenAPI document, and the Lambda functions that serve
# them (one each, or one "$router" for all), each with its own log group.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

module "spec" {
  source              = "../openapi"
  openapi_spec_path   = var.openapi_spec_path
  api_name            = var.api_name
  integration_pattern = var.integration_pattern
  auth                = var.auth
  invoke_arns         = { for k, f in aws_lambda_function.operation : k => f.invoke_arn }
  user_pool_arns      = local.user_pool_arns
  account_id          = data.aws_caller_identity.current.account_id
  partition           = data.aws_partition.current.partition
  cors_allow_origins  = var.cors_allow_origins
  cors_allow_methods  = var.cors_allow_methods
  cors_allow_headers  = var.cors_allow_headers
}

data "archive_file" "bundle" {
  type        = "zip"
  source_dir  = var.bundle_path
  output_path = var.bundle_zip_path
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "handler" {
  name_prefix        = substr("${var.api_name}-", 0, 32)
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.handler.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_iam_role_policy_attachment" "xray" {
  role       = aws_iam_role.handler.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

resource "aws_iam_role_policy_attachment" "vpc" {
  count      = length(var.subnet_ids) > 0 ? 1 : 0
  role       = aws_iam_role.handler.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

# count, not for_each: the ARNs may be of policies made in the same apply.
resource "aws_iam_role_policy_attachment" "additional" {
  count      = length(var.additional_policy_arns)
  role       = aws_iam_role.handler.name
  policy_arn = var.additional_policy_arns[count.index]
}

resource "aws_iam_role_policy" "additional" {
  count = length(var.additional_iam_policy_statements) > 0 ? 1 : 0
  role  = aws_iam_role.handler.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = var.additional_iam_policy_statements
  })
}

resource "aws_cloudwatch_log_group" "operation" {
  for_each          = module.spec.functions
  name              = "/aws/lambda/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "operation" {
  #checkov:skip=CKV_AWS_116:API Gateway invokes the functions synchronously and receives their errors; there is no failed event to queue
  #checkov:skip=CKV_AWS_115:reserved concurrency is a capacity choice per deployment; the stage throttles requests
  #checkov:skip=CKV_AWS_272:code signing needs a signing profile; the bundle is built by the workspace's own bundle target
  #checkov:skip=CKV_AWS_173:the environment holds configuration only (Powertools names, allowed origins), encrypted at rest with Lambda's AWS-managed key
  for_each         = module.spec.functions
  function_name    = each.value
  role             = aws_iam_role.handler.arn
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  handler          = var.handler
  filename         = data.archive_file.bundle.output_path
  source_code_hash = data.archive_file.bundle.output_base64sha256
  memory_size      = var.memory_size
  timeout          = var.timeout
  tags             = var.tags
  tracing_config {
    mode = "Active"
  }
  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.operation[each.key].name
  }
  dynamic "vpc_config" {
    for_each = length(var.subnet_ids) > 0 ? [1] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }
  environment {
    variables = merge({
      POWERTOOLS_SERVICE_NAME      = var.api_name
      POWERTOOLS_METRICS_NAMESPACE = var.api_name
      ALLOWED_ORIGINS              = join(",", var.cors_allow_origins)
    }, var.env)
  }
  depends_on = [aws_iam_role_policy_attachment.logs, aws_iam_role_policy_attachment.vpc]
}

output "operations" {
  description = "Each operation by \"METHOD /path\": path, method, operationId, first tag and function name."
  value       = module.spec.operations
}

output "function_names" {
  description = "Lambda function of each operation, by \"METHOD /path\"."
  value       = { for k, op in module.spec.operations : k => aws_lambda_function.operation[op.function].function_name }
}

output "function_arns" {
  description = "ARN of each operation's function, by \"METHOD /path\"."
  value       = { for k, op in module.spec.operations : k => aws_lambda_function.operation[op.function].arn }
}

output "log_group_names" {
  description = "Log group of each operation's function, by \"METHOD /path\"."
  value       = { for k, op in module.spec.operations : k => aws_cloudwatch_log_group.operation[op.function].name }
}

output "role_name" {
  description = "The functions' IAM role, to attach more policies to."
  value       = aws_iam_role.handler.name
}

output "role_arn" {
  description = "ARN of the functions' IAM role."
  value       = aws_iam_role.handler.arn
}
