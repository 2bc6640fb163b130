# The seed's scenario on gatepass's cloud side (or real AWS, by dropping the endpoints): one OIDC
# provider with plan and apply roles in a dedicated hub (tooling) account, and member accounts whose
# roles trust only the hub roles. Each account is reached with its bootstrap administrator profile.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

variable "endpoint" {
  description = "gatepass URL (IAM and STS share it); empty for real AWS"
  type        = string
  default     = ""
}

variable "issuer_url" {
  description = "The token issuer, exactly as the tokens' iss claim (no trailing slash)"
  type        = string
}

variable "issuer_thumbprint" {
  description = "SHA-1 thumbprint of the issuer's top CA certificate (used when the CA is not publicly trusted)"
  type        = string
  default     = "0000000000000000000000000000000000000000"
}

variable "organization" {
  description = "Platform organization whose runs may use the roles"
  type        = string
  default     = "acme"
}

variable "project" {
  type    = string
  default = "Infra"
}

variable "workspace" {
  type    = string
  default = "networking"
}

variable "hub_profile" {
  type    = string
  default = "gatepass-hub"
}

variable "member_profiles" {
  description = "Profiles of the member accounts, by short name"
  type        = map(string)
  default     = { dev = "gatepass-dev", prod = "gatepass-prod" }
}

locals {
  endpoints   = var.endpoint == "" ? [] : [var.endpoint]
  issuer_host = trimprefix(var.issuer_url, "https://")
  sub_prefix  = "organization:${var.organization}:project:${var.project}:workspace:${var.workspace}:run_phase"
}

provider "aws" {
  alias   = "hub"
  region  = "us-east-1"
  profile = var.hub_profile
  dynamic "endpoints" {
    for_each = local.endpoints
    content {
      iam = endpoints.value
      sts = endpoints.value
    }
  }
}

provider "aws" {
  alias   = "dev"
  region  = "us-east-1"
  profile = var.member_profiles["dev"]
  dynamic "endpoints" {
    for_each = local.endpoints
    content {
      iam = endpoints.value
      sts = endpoints.value
    }
  }
}

provider "aws" {
  alias   = "prod"
  region  = "us-east-1"
  profile = var.member_profiles["prod"]
  dynamic "endpoints" {
    for_each = local.endpoints
    content {
      iam = endpoints.value
      sts = endpoints.value
    }
  }
}

module "hub" {
  source            = "./hub"
  providers         = { aws = aws.hub }
  issuer_url        = var.issuer_url
  issuer_host       = local.issuer_host
  issuer_thumbprint = var.issuer_thumbprint
  sub_prefix        = local.sub_prefix
}

module "dev" {
  source         = "./member"
  providers      = { aws = aws.dev }
  plan_role_arn  = module.hub.plan_role_arn
  apply_role_arn = module.hub.apply_role_arn
}

module "prod" {
  source         = "./member"
  providers      = { aws = aws.prod }
  plan_role_arn  = module.hub.plan_role_arn
  apply_role_arn = module.hub.apply_role_arn
}

output "hub_plan_role_arn" {
  value = module.hub.plan_role_arn
}

output "hub_apply_role_arn" {
  value = module.hub.apply_role_arn
}

output "oidc_provider_arn" {
  value = module.hub.oidc_provider_arn
}

output "member_role_arns" {
  value = { dev = module.dev.role_arn, prod = module.prod.role_arn }
}
