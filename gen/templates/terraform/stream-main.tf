# One Lambda function runs the FastAPI app: its handler is the bundle's run.sh,
# which starts uvicorn; the AWS Lambda Web Adapter layer forwards every
# invocation to it and streams the answer back.  A Function URL (IAM auth,
# invoke mode RESPONSE_STREAM) is the API's address.

data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  function_name = substr(trim(replace(var.api_name, "/[^A-Za-z0-9_]+/", "-"), "-"), 0, 64)
  layer_arn     = coalesce(var.web_adapter_layer_arn, "arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.id}:753240598075:layer:LambdaAdapterLayerX86:24")
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

resource "aws_cloudwatch_log_group" "handler" {
  name              = "/aws/lambda/${local.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "handler" {
  #checkov:skip=CKV_AWS_116:the Function URL invokes the function synchronously and receives its errors; there is no failed event to queue
  #checkov:skip=CKV_AWS_115:reserved concurrency is a capacity choice per deployment
  #checkov:skip=CKV_AWS_272:code signing needs a signing profile; the bundle is built by the workspace's own bundle target
  #checkov:skip=CKV_AWS_173:the environment holds configuration only (adapter and Powertools settings, allowed origins), encrypted at rest with Lambda's AWS-managed key
  #checkov:skip=CKV2_AWS_75:the Function URL's CORS origins are cors_allow_origins, every origin by default as in the plugin; only IAM-signed requests reach the function
  function_name    = local.function_name
  role             = aws_iam_role.handler.arn
  runtime          = "python3.12"
  architectures    = ["x86_64"]
  handler          = "run.sh"
  layers           = [local.layer_arn]
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
    log_group  = aws_cloudwatch_log_group.handler.name
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
      AWS_LAMBDA_EXEC_WRAPPER      = "/opt/bootstrap"
      AWS_LWA_INVOKE_MODE          = "response_stream"
      PORT                         = "8000"
      POWERTOOLS_SERVICE_NAME      = var.api_name
      POWERTOOLS_METRICS_NAMESPACE = var.api_name
      ALLOWED_ORIGINS              = join(",", var.cors_allow_origins)
    }, var.env)
  }
  depends_on = [aws_iam_role_policy_attachment.logs, aws_iam_role_policy_attachment.vpc]
}

resource "aws_lambda_function_url" "handler" {
  function_name      = aws_lambda_function.handler.function_name
  authorization_type = "AWS_IAM"
  invoke_mode        = "RESPONSE_STREAM"
  cors {
    allow_origins  = var.cors_allow_origins
    allow_methods  = var.cors_allow_methods
    allow_headers  = var.cors_allow_headers
    expose_headers = ["x-correlation-id"]
    max_age        = 86400
  }
}

# What grantInvokeAccess grants in the CDK construct: calling the Function URL.
data "aws_iam_policy_document" "invoke" {
  statement {
    actions   = ["lambda:InvokeFunctionUrl"]
    resources = [aws_lambda_function.handler.arn]
    condition {
      test     = "StringEquals"
      variable = "lambda:FunctionUrlAuthType"
      values   = ["AWS_IAM"]
    }
  }
}

resource "aws_iam_role_policy" "invoke" {
  count  = length(var.invoker_role_names)
  role   = var.invoker_role_names[count.index]
  policy = data.aws_iam_policy_document.invoke.json
}
