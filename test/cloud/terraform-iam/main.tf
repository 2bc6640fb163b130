# Every IAM resource and data source gatepass supports for the Terraform AWS provider, in one
# configuration: created, read back through the data sources, imported, and destroyed by
# test/cloud/terraform-iam.test.ts.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "endpoint" { type = string }
variable "issuer_url" { type = string }
variable "issuer_thumbprint" { type = string }

provider "aws" {
  region  = "us-east-1"
  profile = "gatepass-hub"
  endpoints {
    iam = var.endpoint
    sts = var.endpoint
  }
}

locals {
  host = trimprefix(var.issuer_url, "https://")
}

resource "aws_iam_openid_connect_provider" "runs" {
  url             = var.issuer_url
  client_id_list  = ["aws.workload.identity", "sts.amazonaws.com"]
  thumbprint_list = [var.issuer_thumbprint]
  tags            = { purpose = "runs" }
}

resource "aws_iam_policy" "boundary" {
  name        = "runs-boundary"
  path        = "/runs/"
  description = "The most a run role may ever do"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "Cap", Effect = "Allow", Action = ["iam:*", "sts:*"], Resource = "*" }]
  })
  tags = { kind = "boundary" }
}

resource "aws_iam_policy" "read" {
  name   = "read-iam"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["iam:Get*", "iam:List*"], Resource = "*" }] })
}

resource "aws_iam_role" "plan" {
  name                 = "tf-plan"
  path                 = "/runs/"
  description          = "plan phase"
  max_session_duration = 7200
  permissions_boundary = aws_iam_policy.boundary.arn
  tags                 = { phase = "plan" }
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = aws_iam_openid_connect_provider.runs.arn }
      Condition = {
        StringEquals = { "${local.host}:aud" = "aws.workload.identity" }
        StringLike   = { "${local.host}:sub" = "organization:acme:project:*:workspace:*:run_phase:plan" }
      }
    }]
  })
}

resource "aws_iam_role_policy" "chain" {
  name = "chain"
  role = aws_iam_role.plan.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Resource = "arn:aws:iam::*:role/terraform-plan" }]
  })
}

resource "aws_iam_role_policy_attachment" "read" {
  role       = aws_iam_role.plan.name
  policy_arn = aws_iam_policy.read.arn
}

resource "aws_iam_user" "ci" {
  name = "ci-bootstrap"
  path = "/bots/"
  tags = { owner = "platform" }
}

resource "aws_iam_access_key" "ci" {
  user = aws_iam_user.ci.name
}

data "aws_iam_role" "plan" {
  name = aws_iam_role.plan.name
}

data "aws_iam_policy" "read" {
  arn = aws_iam_policy.read.arn
}

data "aws_iam_policy" "aws_read_only" {
  arn = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
}

data "aws_iam_openid_connect_provider" "by_arn" {
  arn = aws_iam_openid_connect_provider.runs.arn
}

data "aws_iam_openid_connect_provider" "by_url" {
  url = aws_iam_openid_connect_provider.runs.url
}

output "role" {
  value = {
    arn                  = data.aws_iam_role.plan.arn
    unique_id            = data.aws_iam_role.plan.unique_id
    max_session_duration = data.aws_iam_role.plan.max_session_duration
    permissions_boundary = data.aws_iam_role.plan.permissions_boundary
    path                 = data.aws_iam_role.plan.path
    tags                 = data.aws_iam_role.plan.tags
  }
}

output "policy" {
  value = {
    name     = data.aws_iam_policy.read.name
    path     = data.aws_iam_policy.read.path
    policy   = data.aws_iam_policy.read.policy
    aws_name = data.aws_iam_policy.aws_read_only.name
  }
}

output "provider" {
  value = {
    by_arn_clients = data.aws_iam_openid_connect_provider.by_arn.client_id_list
    by_arn_thumbs  = data.aws_iam_openid_connect_provider.by_arn.thumbprint_list
    by_url_arn     = data.aws_iam_openid_connect_provider.by_url.arn
    tags           = data.aws_iam_openid_connect_provider.by_arn.tags
  }
}

output "access_key_id" {
  value = aws_iam_access_key.ci.id
}

output "access_key_secret" {
  value     = aws_iam_access_key.ci.secret
  sensitive = true
}
