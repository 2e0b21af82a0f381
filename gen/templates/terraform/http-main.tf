# An API Gateway HTTP API: one route and one Lambda integration per operation;
# API Gateway answers CORS preflights from cors_configuration.

resource "aws_apigatewayv2_api" "api" {
  name          = var.api_name
  protocol_type = "HTTP"
  cors_configuration {
    allow_origins = var.cors_allow_origins
    allow_methods = var.cors_allow_methods
    allow_headers = var.cors_allow_headers
    max_age       = 86400
  }
  tags = var.tags
}

resource "aws_apigatewayv2_authorizer" "cognito" {
  count            = local.cognito ? 1 : 0
  api_id           = aws_apigatewayv2_api.api.id
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]
  name             = "cognito"
  jwt_configuration {
    audience = local.user_pool_client_ids
    issuer   = "https://cognito-idp.${data.aws_region.current.id}.amazonaws.com/${local.user_pool_id}"
  }
}

resource "aws_apigatewayv2_integration" "operation" {
  for_each               = module.spec.operations
  api_id                 = aws_apigatewayv2_api.api.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.operation[each.value.function].invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "operation" {
  for_each           = module.spec.operations
  api_id             = aws_apigatewayv2_api.api.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.operation[each.key].id}"
  authorization_type = var.auth == "IAM" ? "AWS_IAM" : (local.cognito ? "JWT" : "NONE")
  authorizer_id      = one(aws_apigatewayv2_authorizer.cognito[*].id)
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.api_name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.api.id
  name        = "$default"
  auto_deploy = true
  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId   = "$context.requestId"
      ip          = "$context.identity.sourceIp"
      requestTime = "$context.requestTime"
      routeKey    = "$context.routeKey"
      status      = "$context.status"
      responseLen = "$context.responseLength"
      error       = "$context.integrationErrorMessage"
    })
  }
  default_route_settings {
    throttling_rate_limit  = 10000
    throttling_burst_limit = 5000
  }
  tags = var.tags
}

resource "aws_lambda_permission" "invoke" {
  for_each      = module.spec.functions
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.operation[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.api.execution_arn}/*/*"
}
