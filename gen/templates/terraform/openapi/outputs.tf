output "operations" {
  description = "Each operation by \"METHOD /path\": path, method, operationId, first tag and function name."
  value = {
    for k, op in local.operations : k => merge(op, { function_name = local.function_names[k] })
  }
  precondition {
    condition     = length(local.clashes) == 0
    error_message = "Operations of ${var.openapi_spec_path} would deploy Lambda functions of one name: ${join("; ", local.clashes)}. Give them distinct operationIds (or distinct tags)."
  }
}

output "rest_body" {
  description = "The REST API's OpenAPI body: the operations with their Lambda proxy integrations, CORS preflight (OPTIONS) on every path, CORS headers on 4XX/5XX gateway responses, and the resource policy."
  value       = jsonencode(local.rest_body)
}
