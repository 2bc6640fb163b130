# What a workspace run applies through `gatepass run`: the default configuration reaches the hub
# account with a plain provider block, and the "member" alias reaches a member account through the
# shared config file gatepass writes for it (the hub role chained into the member's role). Nothing
# here names a credential: gatepass delivers them per run phase.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}

# Supplied by gatepass run (as by HCP Terraform) through TF_VAR_tfc_aws_dynamic_credentials.
variable "tfc_aws_dynamic_credentials" {
  description = "Object containing AWS dynamic credentials configuration"
  type = object({
    default = object({ shared_config_file = string })
    aliases = map(object({ shared_config_file = string }))
  })
}

provider "aws" {
  shared_config_files = [var.tfc_aws_dynamic_credentials.default.shared_config_file]
}

provider "aws" {
  alias               = "member"
  shared_config_files = [var.tfc_aws_dynamic_credentials.aliases["member"].shared_config_file]
}

data "aws_caller_identity" "hub" {}

data "aws_caller_identity" "member" {
  provider = aws.member
}

resource "aws_iam_policy" "network_readers" {
  provider    = aws.member
  name        = "network-readers"
  path        = "/networking/"
  description = "Read-only access for the networking team, managed by the networking workspace"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ReadIam"
      Effect   = "Allow"
      Action   = ["iam:Get*", "iam:List*"]
      Resource = "*"
    }]
  })
  tags = { workspace = "networking" }
}

output "hub_identity" {
  value = data.aws_caller_identity.hub.arn
}

output "member_identity" {
  value = data.aws_caller_identity.member.arn
}

output "policy_arn" {
  value = aws_iam_policy.network_readers.arn
}
