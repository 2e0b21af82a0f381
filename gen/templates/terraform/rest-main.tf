# An API Gateway REST API made from an OpenAPI body: every operation behind its
# own Lambda proxy integration, a CORS preflight (OPTIONS, no auth) on every
# path, CORS headers on 4XX/5XX gateway responses, and a resource policy
# (module.spec.rest_body).

resource "aws_api_gateway_rest_api" "api" {
  name = var.api_name
  body = module.spec.rest_body
  endpoint_configuration {
    types = ["REGIONAL"]
  }
  tags = var.tags
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_deployment" "api" {
  rest_api_id = aws_api_gateway_rest_api.api.id
  triggers    = { body = sha1(aws_api_gateway_rest_api.api.body) }
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  count             = var.access_logs ? 1 : 0
  name              = "/aws/apigateway/${var.api_name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_api_gateway_stage" "prod" {
  #checkov:skip=CKV_AWS_120:responses depend on the caller and change with every request; caching is a choice per API
  #checkov:skip=CKV2_AWS_77:a web ACL is associated when waf_web_acl_arn is given, and its rules are that ACL's
  #checkov:skip=CKV2_AWS_51:callers authenticate with SigV4 (IAM) or Cognito tokens, not client certificates
  #checkov:skip=CKV2_AWS_4:execution logging needs the account's API Gateway CloudWatch role, a per-region setting outside this module
  rest_api_id          = aws_api_gateway_rest_api.api.id
  deployment_id        = aws_api_gateway_deployment.api.id
  stage_name           = "prod"
  xray_tracing_enabled = true
  dynamic "access_log_settings" {
    for_each = aws_cloudwatch_log_group.access
    content {
      destination_arn = access_log_settings.value.arn
      format = jsonencode({
        requestId    = "$context.requestId"
        ip           = "$context.identity.sourceIp"
        caller       = "$context.identity.caller"
        requestTime  = "$context.requestTime"
        httpMethod   = "$context.httpMethod"
        resourcePath = "$context.resourcePath"
        status       = "$context.status"
        responseLen  = "$context.responseLength"
      })
    }
  }
  tags = var.tags
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:responses depend on the caller and change with every request; caching is a choice per API
  rest_api_id = aws_api_gateway_rest_api.api.id
  stage_name  = aws_api_gateway_stage.prod.stage_name
  method_path = "*/*"
  settings {
    metrics_enabled        = true
    throttling_rate_limit  = 10000
    throttling_burst_limit = 5000
  }
}

resource "aws_wafv2_web_acl_association" "api" {
  count        = var.waf_web_acl_arn == null ? 0 : 1
  resource_arn = aws_api_gateway_stage.prod.arn
  web_acl_arn  = var.waf_web_acl_arn
}

resource "aws_lambda_permission" "invoke" {
  for_each      = module.spec.functions
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.operation[each.key].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.api.execution_arn}/*/*"
}
