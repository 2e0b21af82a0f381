# The operations of the OpenAPI document, the Lambda functions that serve them
# (one each, or one for all with the shared pattern), and the REST API body
# (OpenAPI with API Gateway's extensions).

locals {
  spec    = jsondecode(file(var.openapi_spec_path))
  methods = ["get", "put", "post", "delete", "options", "head", "patch"]

  # "GET /items/{item_id}" => the operation.
  operations = merge([
    for path, item in try(local.spec.paths, {}) : {
      for method, op in item : "${upper(method)} ${path}" => {
        path   = path
        method = upper(method)
        id     = try(op.operationId, "${method}-${path}")
        tag    = try(op.tags[0], "")
      } if contains(local.methods, lower(method))
    }
  ]...)

  # Function names: the API's name, then the operationId; an operationId that
  # two operations share (one under each of two tags) gets its tag in front.
  # Lambda takes 64 characters of [A-Za-z0-9_-]: a longer name keeps 55 and a
  # hash of its operation.
  api_slug = trim(replace(var.api_name, "/[^A-Za-z0-9_]+/", "-"), "-")
  slug     = { for k, op in local.operations : k => trim(replace(op.id, "/[^A-Za-z0-9]+/", "-"), "-") }
  tag_slug = { for k, op in local.operations : k => trim(replace(op.tag, "/[^A-Za-z0-9]+/", "-"), "-") }
  id_uses  = { for k, s in local.slug : s => k... }
  stem = {
    for k, s in local.slug : k =>
    length(local.id_uses[s]) > 1 && local.tag_slug[k] != "" ? "${local.tag_slug[k]}-${s}" : s
  }
  long_names     = { for k, s in local.stem : k => "${local.api_slug}-${s}" }
  function_names = { for k, n in local.long_names : k => length(n) <= 64 ? n : "${substr(n, 0, 55)}-${substr(sha1(k), 0, 8)}" }
  name_uses      = { for k, n in local.function_names : n => k... }

  # The functions to deploy, and which one serves each operation: its own, or
  # with the shared pattern the one "$router".
  shared      = var.integration_pattern == "shared"
  functions   = local.shared ? { "$router" = substr("${local.api_slug}-router", 0, 64) } : local.function_names
  function_of = { for k in keys(local.operations) : k => local.shared ? "$router" : k }
  clashes     = local.shared ? [] : [for n, keys in local.name_uses : "${n} (${join(", ", keys)})" if length(keys) > 1]
}

# ---- CORS: preflight answers and gateway error responses ----

locals {
  # One origin (or "*") is a fixed header; from a list, the request's Origin is
  # answered when it is in the list.
  one_origin     = length(var.cors_allow_origins) == 1
  origin_literal = "'${join(",", var.cors_allow_origins)}'"
  cors_methods   = "'${join(",", var.cors_allow_methods)}'"
  cors_headers   = "'${join(",", var.cors_allow_headers)}'"
  origin_echo = join("\n", [
    "#set($origin = $input.params().header.get('Origin'))",
    "#if(\"$!origin\" == '')#set($origin = $input.params().header.get('origin'))#end",
    "#set($allowed = [${join(", ", [for o in var.cors_allow_origins : "'${o}'"])}])",
    "#if($allowed.contains($origin))#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)#end",
  ])

  preflight = {
    summary  = "CORS preflight"
    security = []
    responses = {
      "204" = {
        description = "CORS preflight"
        headers = {
          for h in ["Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Vary"] :
          h => { schema = { type = "string" } }
        }
      }
    }
    "x-amazon-apigateway-integration" = {
      type             = "mock"
      requestTemplates = { "application/json" = "{\"statusCode\": 204}" }
      responses = {
        default = {
          statusCode = "204"
          responseParameters = merge({
            "method.response.header.Access-Control-Allow-Methods" = local.cors_methods
            "method.response.header.Access-Control-Allow-Headers" = local.cors_headers
            "method.response.header.Vary"                         = "'Origin'"
            }, local.one_origin ? {
            "method.response.header.Access-Control-Allow-Origin" = local.origin_literal
          } : {})
          responseTemplates = { "application/json" = local.one_origin ? "" : local.origin_echo }
        }
      }
    }
  }

  gateway_cors = {
    responseParameters = {
      "gatewayresponse.header.Access-Control-Allow-Origin"  = local.one_origin ? local.origin_literal : "method.request.header.origin"
      "gatewayresponse.header.Access-Control-Allow-Methods" = local.cors_methods
      "gatewayresponse.header.Access-Control-Allow-Headers" = local.cors_headers
    }
  }
}

# ---- the REST API body ----

locals {
  security_schemes = {
    IAM = {
      sigv4 = { type = "apiKey", name = "Authorization", in = "header", "x-amazon-apigateway-authtype" = "awsSigv4" }
    }
    Cognito = {
      cognito = {
        type                           = "apiKey"
        name                           = "Authorization"
        in                             = "header"
        "x-amazon-apigateway-authtype" = "cognito_user_pools"
        "x-amazon-apigateway-authorizer" = {
          type         = "cognito_user_pools"
          providerARNs = var.user_pool_arns
        }
      }
    }
    None = {}
  }
  security = { IAM = [{ sigv4 = [] }], Cognito = [{ cognito = [] }], None = [] }

  # IAM: the account's principals may invoke everything, anyone may send a
  # preflight.  Cognito and None: the authorizer (or nothing) decides.
  policy = {
    IAM = [
      {
        Effect    = "Allow"
        Principal = { AWS = "arn:${var.partition}:iam::${var.account_id}:root" }
        Action    = "execute-api:Invoke"
        Resource  = "execute-api:/*"
      },
      {
        Effect    = "Allow"
        Principal = "*"
        Action    = "execute-api:Invoke"
        Resource  = "execute-api:/*/OPTIONS/*"
      },
    ]
    Cognito = [{ Effect = "Allow", Principal = "*", Action = "execute-api:Invoke", Resource = "execute-api:/*" }]
    None    = [{ Effect = "Allow", Principal = "*", Action = "execute-api:Invoke", Resource = "execute-api:/*" }]
  }

  rest_paths = {
    for path in distinct([for op in values(local.operations) : op.path]) : path => merge(
      { options = local.preflight },
      {
        for k, op in local.operations : lower(op.method) => {
          # the path's parameters, which API Gateway maps to the resource's
          parameters = [
            for p in try(local.spec.paths[op.path][lower(op.method)].parameters, []) :
            { name = p.name, in = "path", required = true, schema = { type = "string" } }
            if try(p.in, "") == "path"
          ]
          security = local.security[var.auth]
          "x-amazon-apigateway-integration" = {
            type       = "aws_proxy"
            httpMethod = "POST"
            uri        = lookup(var.invoke_arns, local.function_of[k], "")
          }
        } if op.path == path
      }
    )
  }

  rest_body = {
    openapi    = "3.0.1"
    info       = { title = var.api_name, version = try(tostring(local.spec.info.version), "1") }
    paths      = local.rest_paths
    components = { securitySchemes = local.security_schemes[var.auth] }
    "x-amazon-apigateway-gateway-responses" = {
      DEFAULT_4XX = local.gateway_cors
      DEFAULT_5XX = local.gateway_cors
    }
    "x-amazon-apigateway-policy" = {
      Version   = "2012-10-17"
      Statement = local.policy[var.auth]
    }
  }
}
