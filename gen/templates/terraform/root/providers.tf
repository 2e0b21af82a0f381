# The root module the workspace deploys from: `bld run tf-infra:plan`, then
# `bld run tf-infra:apply`.  State is kept in a local file
# (terraform.tfstate beside this file, ignored by git); for a team, replace the
# backend with an "s3" one and run `bld run tf-infra:init -- -migrate-state`.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4"
    }
  }
  backend "local" {}
}

provider "aws" {
  region = var.aws_region
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
