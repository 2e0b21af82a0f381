output "api_url" {
  description = "Base URL of the API."
  value       = aws_apigatewayv2_api.api.api_endpoint
}

output "execute_api_arn" {
  description = "ARN pattern to grant execute-api:Invoke on every operation (IAM auth)."
  value       = "${aws_apigatewayv2_api.api.execution_arn}/*/*/*"
}

output "function_names" {
  description = "Lambda function of each operation, by \"METHOD /path\"."
  value       = { for k, f in aws_lambda_function.operation : k => f.function_name }
}
