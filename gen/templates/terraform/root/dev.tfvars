# Variables of the dev environment (`bld run tf-infra:plan`, the default
# configuration; add env/<name>.tfvars and a configuration for another).
environment = "dev"
