# The multi-account pattern, built from scratch through gatepass's Organizations, IAM and STS APIs
# with nothing but the AWS provider pointed at its endpoint:
#
#   organization (management: the account gatepass bootstrapped, profile gatepass-hub)
#   ├── OU platform  → account "runs-hub": the OIDC provider and the plan/apply roles runs enter by
#   │                  web identity; an SCP keeps it to role chaining
#   └── OU workloads → accounts "network" and "app": plan and apply roles trusting the hub's roles
#
# Terraform reaches each new account through the OrganizationAccountAccessRole that CreateAccount
# puts there, as on AWS. docs/multi-account.md walks through it.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "endpoint" { type = string }
variable "issuer_url" { type = string }
variable "issuer_thumbprint" { type = string }
variable "platform_organization" {
  type        = string
  default     = "acme"
  description = "The issuer organization whose runs may use these roles (pinned in every trust policy)."
}
variable "email_domain" {
  type    = string
  default = "example.com"
}
variable "account_ids" {
  type        = map(string)
  default     = {}
  description = "The accounts' ids once they exist (hub, network, app). Provider configurations cannot wait for an import, so importing an account needs them pinned here."
}

locals {
  endpoints = { iam = var.endpoint, sts = var.endpoint, organizations = var.endpoint }
  host      = trimprefix(var.issuer_url, "https://")
  sub       = "organization:${var.platform_organization}:project:*:workspace:*:run_phase"
  ids = {
    hub     = lookup(var.account_ids, "hub", "") != "" ? var.account_ids["hub"] : aws_organizations_account.hub.id
    network = lookup(var.account_ids, "network", "") != "" ? var.account_ids["network"] : aws_organizations_account.network.id
    app     = lookup(var.account_ids, "app", "") != "" ? var.account_ids["app"] : aws_organizations_account.app.id
  }
  members = { network = local.ids.network, app = local.ids.app }
}

provider "aws" {
  region  = "us-east-1"
  profile = "gatepass-hub"
  endpoints {
    iam           = local.endpoints.iam
    sts           = local.endpoints.sts
    organizations = local.endpoints.organizations
  }
}

# ---- the organization ----------------------------------------------------------------------

resource "aws_organizations_organization" "this" {
  feature_set          = "ALL"
  enabled_policy_types = ["SERVICE_CONTROL_POLICY"]
}

resource "aws_organizations_organizational_unit" "platform" {
  name      = "platform"
  parent_id = aws_organizations_organization.this.roots[0].id
}

resource "aws_organizations_organizational_unit" "workloads" {
  name      = "workloads"
  parent_id = aws_organizations_organization.this.roots[0].id
  tags      = { tier = "workloads" }
}

resource "aws_organizations_account" "hub" {
  name      = "runs-hub"
  email     = "runs-hub@${var.email_domain}"
  parent_id = aws_organizations_organizational_unit.platform.id
}

resource "aws_organizations_account" "network" {
  name      = "network"
  email     = "network@${var.email_domain}"
  parent_id = aws_organizations_organizational_unit.workloads.id
  tags      = { workload = "network" }
}

resource "aws_organizations_account" "app" {
  name      = "app"
  email     = "app@${var.email_domain}"
  parent_id = aws_organizations_organizational_unit.workloads.id
}

# The hub only hands out sessions: everything but role chaining is denied there, except to the
# organization's own access role (how this configuration manages the hub).
resource "aws_organizations_policy" "hub_chaining_only" {
  name        = "hub-chaining-only"
  description = "The hub account may only chain into member roles"
  type        = "SERVICE_CONTROL_POLICY"
  depends_on  = [aws_organizations_organization.this]
  content = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "OnlyRoleChaining"
      Effect    = "Deny"
      NotAction = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity", "sts:GetCallerIdentity"]
      Resource  = "*"
      Condition = {
        ArnNotLike = { "aws:PrincipalArn" = "arn:aws:iam::*:role/OrganizationAccountAccessRole" }
      }
    }]
  })
}

resource "aws_organizations_policy_attachment" "hub_chaining_only" {
  policy_id = aws_organizations_policy.hub_chaining_only.id
  target_id = aws_organizations_organizational_unit.platform.id
}

data "aws_organizations_resource_tags" "workloads" {
  resource_id = aws_organizations_organizational_unit.workloads.id
}

data "aws_organizations_organization" "this" {
  depends_on = [aws_organizations_account.hub, aws_organizations_account.network, aws_organizations_account.app]
}

# ---- the hub: OIDC provider and the roles runs enter ---------------------------------------

provider "aws" {
  alias   = "hub"
  region  = "us-east-1"
  profile = "gatepass-hub"
  endpoints {
    iam = local.endpoints.iam
    sts = local.endpoints.sts
  }
  assume_role {
    role_arn = "arn:aws:iam::${local.ids.hub}:role/OrganizationAccountAccessRole"
  }
}

resource "aws_iam_openid_connect_provider" "runs" {
  provider        = aws.hub
  url             = var.issuer_url
  client_id_list  = ["aws.workload.identity"]
  thumbprint_list = [var.issuer_thumbprint]
}

resource "aws_iam_role" "hub" {
  for_each = toset(["plan", "apply"])
  provider = aws.hub
  name     = "tfc-${each.key}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Federated = aws_iam_openid_connect_provider.runs.arn }
      Action    = ["sts:AssumeRoleWithWebIdentity", "sts:SetSourceIdentity"]
      Condition = {
        StringEquals = { "${local.host}:aud" = "aws.workload.identity" }
        StringLike   = { "${local.host}:sub" = "${local.sub}:${each.key}" }
      }
    }]
  })
}

resource "aws_iam_role_policy" "hub_chain" {
  for_each = aws_iam_role.hub
  provider = aws.hub
  name     = "chain-into-members"
  role     = each.value.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]
      Resource = [for id in values(local.members) : "arn:aws:iam::${id}:role/${each.key}"]
    }]
  })
}

# ---- the members: a plan role that reads, an apply role that writes ------------------------

provider "aws" {
  alias   = "network"
  region  = "us-east-1"
  profile = "gatepass-hub"
  endpoints {
    iam = local.endpoints.iam
    sts = local.endpoints.sts
  }
  assume_role {
    role_arn = "arn:aws:iam::${local.ids.network}:role/OrganizationAccountAccessRole"
  }
}

provider "aws" {
  alias   = "app"
  region  = "us-east-1"
  profile = "gatepass-hub"
  endpoints {
    iam = local.endpoints.iam
    sts = local.endpoints.sts
  }
  assume_role {
    role_arn = "arn:aws:iam::${local.ids.app}:role/OrganizationAccountAccessRole"
  }
}

module "network_roles" {
  source    = "./member-roles"
  providers = { aws = aws.network }
  hub_roles = { for k, r in aws_iam_role.hub : k => r.arn }
}

module "app_roles" {
  source    = "./member-roles"
  providers = { aws = aws.app }
  hub_roles = { for k, r in aws_iam_role.hub : k => r.arn }
}

output "organization_id" { value = aws_organizations_organization.this.id }
output "root_id" { value = aws_organizations_organization.this.roots[0].id }
output "accounts" {
  value = {
    hub     = aws_organizations_account.hub.id
    network = aws_organizations_account.network.id
    app     = aws_organizations_account.app.id
  }
}
output "units" {
  value = {
    platform  = aws_organizations_organizational_unit.platform.id
    workloads = aws_organizations_organizational_unit.workloads.id
  }
}
output "scp_id" { value = aws_organizations_policy.hub_chaining_only.id }
output "workloads_tags" { value = data.aws_organizations_resource_tags.workloads.tags }
output "member_accounts_seen" { value = length(data.aws_organizations_organization.this.non_master_accounts) }
output "hub_roles" { value = { for k, r in aws_iam_role.hub : k => r.arn } }
