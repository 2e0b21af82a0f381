# An API Gateway REST API: the OpenAPI document with one Lambda proxy integration per operation.

resource "aws_cognito_user_pool" "users" {
  count = var.auth == "Cognito" ? 1 : 0
  name  = "${var.api_name}-users"
}

locals {
  security_schemes = {
    IAM     = { sigv4 = { type = "apiKey", name = "Authorization", in = "header", "x-amazon-apigateway-authtype" = "awsSigv4" } }
    Cognito = { cognito = { type = "apiKey", name = "Authorization", in = "header", "x-amazon-apigateway-authtype" = "cognito_user_pools", "x-amazon-apigateway-authorizer" = { type = "cognito_user_pools", providerARNs = aws_cognito_user_pool.users[*].arn } } }
    None    = {}
  }
  security = { IAM = [{ sigv4 = [] }], Cognito = [{ cognito = [] }], None = [] }
  paths = {
    for path in distinct([for op in local.operations : op.path]) : path => {
      for key, op in local.operations : lower(op.method) => {
        security = local.security[var.auth]
        "x-amazon-apigateway-integration" = {
          type       = "aws_proxy"
          httpMethod = "POST"
          uri        = aws_lambda_function.operation[key].invoke_arn
        }
      } if op.path == path
    }
  }
}

resource "aws_api_gateway_rest_api" "api" {
  name = var.api_name
  body = jsonencode({
    openapi    = "3.0.1"
    info       = { title = var.api_name, version = "1" }
    paths      = local.paths
    components = { securitySchemes = local.security_schemes[var.auth] }
  })
}

resource "aws_api_gateway_deployment" "api" {
  rest_api_id = aws_api_gateway_rest_api.api.id
  triggers    = { body = sha1(aws_api_gateway_rest_api.api.body) }
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_stage" "prod" {
  rest_api_id          = aws_api_gateway_rest_api.api.id
  deployment_id        = aws_api_gateway_deployment.api.id
  stage_name           = "prod"
  xray_tracing_enabled = true
}

resource "aws_lambda_permission" "invoke" {
  for_each      = local.operations
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.operation[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.api.execution_arn}/*/*"
}
