output "api_url" {
  description = "The Function URL: the API's base URL (IAM auth, responses streamed)."
  value       = aws_lambda_function_url.handler.function_url
}

output "invoke_policy_json" {
  description = "An IAM policy allowing calls to the Function URL, to attach to a caller's role."
  value       = data.aws_iam_policy_document.invoke.json
}

output "function_name" {
  description = "The function."
  value       = aws_lambda_function.handler.function_name
}

output "function_arn" {
  description = "ARN of the function."
  value       = aws_lambda_function.handler.arn
}

output "log_group_name" {
  description = "The function's log group."
  value       = aws_cloudwatch_log_group.handler.name
}

output "role_name" {
  description = "The function's IAM role, to attach more policies to."
  value       = aws_iam_role.handler.name
}

output "role_arn" {
  description = "ARN of the function's IAM role."
  value       = aws_iam_role.handler.arn
}
