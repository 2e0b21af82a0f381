# Reads the API's OpenAPI document: no provider, no resource, so it also plans
# and tests offline.
terraform {
  required_version = ">= 1.5"
}
