output "operations" {
  description = "Each operation by \"METHOD /path\": path, method, operationId, first tag, and the key and name of its function."
  value = {
    for k, op in local.operations : k => merge(op, {
      function      = local.function_of[k]
      function_name = local.functions[local.function_of[k]]
    })
  }
  precondition {
    condition     = length(local.clashes) == 0
    error_message = "Operations of ${var.openapi_spec_path} would deploy Lambda functions of one name: ${join("; ", local.clashes)}. Give them distinct operationIds (or distinct tags)."
  }
}

output "functions" {
  description = "The functions to deploy: name by key (the operation's \"METHOD /path\", or \"$router\")."
  value       = local.functions
}

output "rest_body" {
  description = "The REST API's OpenAPI body: the operations with their Lambda proxy integrations, CORS preflight (OPTIONS) on every path, CORS headers on 4XX/5XX gateway responses, and the resource policy."
  value       = jsonencode(local.rest_body)
}
