output "api_url" {
  description = "Base URL of the API's prod stage."
  value       = aws_api_gateway_stage.prod.invoke_url
}

output "api_id" {
  description = "ID of the REST API."
  value       = aws_api_gateway_rest_api.api.id
}

output "api_execution_arn" {
  description = "Execution ARN of the REST API."
  value       = aws_api_gateway_rest_api.api.execution_arn
}

output "stage_arn" {
  description = "ARN of the prod stage."
  value       = aws_api_gateway_stage.prod.arn
}

output "execute_api_arn" {
  description = "ARN pattern to grant execute-api:Invoke on every operation (IAM auth)."
  value       = "${aws_api_gateway_rest_api.api.execution_arn}/*/*/*"
}
