# The operations of the OpenAPI document, and one Lambda function for each.

locals {
  spec    = jsondecode(file(var.openapi_spec_path))
  methods = ["get", "put", "post", "delete", "options", "head", "patch"]
  operations = merge([
    for path, item in local.spec.paths : {
      for method, op in item : "${upper(method)} ${path}" => {
        path   = path
        method = upper(method)
        id     = replace(try(op.operationId, "${method}${path}"), "/[^A-Za-z0-9]+/", "-")
      } if contains(local.methods, method)
    }
  ]...)
}

data "archive_file" "bundle" {
  type        = "zip"
  source_dir  = var.bundle_path
  output_path = "${path.root}/.terraform/${var.api_name}-bundle.zip"
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
}

resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.handler.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_iam_role_policy_attachment" "xray" {
  role       = aws_iam_role.handler.name
  policy_arn = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

resource "aws_lambda_function" "operation" {
  for_each         = local.operations
  function_name    = substr("${var.api_name}-${each.value.id}", 0, 64)
  role             = aws_iam_role.handler.arn
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  handler          = var.handler
  filename         = data.archive_file.bundle.output_path
  source_code_hash = data.archive_file.bundle.output_base64sha256
  memory_size      = 512
  timeout          = 30
  tracing_config {
    mode = "Active"
  }
  environment {
    variables = merge({
      POWERTOOLS_SERVICE_NAME      = var.api_name
      POWERTOOLS_METRICS_NAMESPACE = var.api_name
    }, var.environment)
  }
}
