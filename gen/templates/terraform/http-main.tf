# An API Gateway HTTP API: one route and one Lambda integration per operation.

resource "aws_cognito_user_pool" "users" {
  count = var.auth == "Cognito" ? 1 : 0
  name  = "${var.api_name}-users"
}

resource "aws_cognito_user_pool_client" "client" {
  count        = var.auth == "Cognito" ? 1 : 0
  name         = "${var.api_name}-client"
  user_pool_id = aws_cognito_user_pool.users[0].id
}

data "aws_region" "current" {}

resource "aws_apigatewayv2_api" "api" {
  name          = var.api_name
  protocol_type = "HTTP"
  cors_configuration {
    allow_origins = ["*"]
    allow_methods = ["*"]
    allow_headers = ["authorization", "content-type", "x-amz-date", "x-amz-security-token", "x-correlation-id"]
  }
}

resource "aws_apigatewayv2_authorizer" "cognito" {
  count            = var.auth == "Cognito" ? 1 : 0
  api_id           = aws_apigatewayv2_api.api.id
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]
  name             = "cognito"
  jwt_configuration {
    audience = [aws_cognito_user_pool_client.client[0].id]
    issuer   = "https://cognito-idp.${data.aws_region.current.name}.amazonaws.com/${aws_cognito_user_pool.users[0].id}"
  }
}

resource "aws_apigatewayv2_integration" "operation" {
  for_each               = local.operations
  api_id                 = aws_apigatewayv2_api.api.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.operation[each.key].invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "operation" {
  for_each           = local.operations
  api_id             = aws_apigatewayv2_api.api.id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.operation[each.key].id}"
  authorization_type = var.auth == "IAM" ? "AWS_IAM" : (var.auth == "Cognito" ? "JWT" : "NONE")
  authorizer_id      = var.auth == "Cognito" ? aws_apigatewayv2_authorizer.cognito[0].id : null
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.api.id
  name        = "$default"
  auto_deploy = true
}

resource "aws_lambda_permission" "invoke" {
  for_each      = local.operations
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.operation[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.api.execution_arn}/*/*"
}
