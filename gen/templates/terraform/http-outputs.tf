output "api_url" {
  description = "Base URL of the API."
  value       = aws_apigatewayv2_api.api.api_endpoint
}

output "api_id" {
  description = "ID of the HTTP API."
  value       = aws_apigatewayv2_api.api.id
}

output "api_execution_arn" {
  description = "Execution ARN of the HTTP API."
  value       = aws_apigatewayv2_api.api.execution_arn
}

output "stage_arn" {
  description = "ARN of the $default stage."
  value       = aws_apigatewayv2_stage.default.arn
}

output "execute_api_arn" {
  description = "ARN pattern to grant execute-api:Invoke on every operation (IAM auth)."
  value       = "${aws_apigatewayv2_api.api.execution_arn}/*/*/*"
}
