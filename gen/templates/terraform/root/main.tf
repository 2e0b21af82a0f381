# Each API of the workspace has its own file beside this one (<api-name>.tf),
# written by `bld generate py#fast-api --iacProvider Terraform`.

locals {
  tags = merge({ Environment = var.environment }, var.tags)
}
