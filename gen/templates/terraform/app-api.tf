# {{name}}: the {{module}} FastAPI on AWS Lambda behind an API Gateway {{kind}} API
# (auth: {{auth}}), one function per operation of its OpenAPI document.
# Build first: `bld run {{name}}:openapi {{name}}:bundle` (or `bld run common-terraform:build`).

variable "workspace_root" {
  description = "The workspace root (the folder holding nx.json)."
  type        = string
  default     = "../../../../../../.."
}

module "{{snake}}" {
  source            = "../../../core/api/{{kind_dir}}"
  api_name          = "{{name}}"
  openapi_spec_path = "${var.workspace_root}/{{dist}}/openapi/openapi.json"
  bundle_path       = "${var.workspace_root}/{{dist}}/bundle"
  handler           = "{{module}}.main.handler"
  auth              = "{{auth}}"
}

output "{{snake}}_url" {
  value = module.{{snake}}.api_url
}
