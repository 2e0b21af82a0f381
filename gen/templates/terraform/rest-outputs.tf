output "api_url" {
  description = "Base URL of the API's prod stage."
  value       = aws_api_gateway_stage.prod.invoke_url
}

output "execute_api_arn" {
  description = "ARN pattern to grant execute-api:Invoke on every operation (IAM auth)."
  value       = "${aws_api_gateway_rest_api.api.execution_arn}/*/*/*"
}

output "function_names" {
  description = "Lambda function of each operation, by \"METHOD /path\"."
  value       = { for k, f in aws_lambda_function.operation : k => f.function_name }
}
