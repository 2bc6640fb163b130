# Hub (tooling) account: the OIDC provider and one role per run phase. The trust policies pin the
# organization with its closing colon, the project, the workspace and the phase.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "issuer_url" { type = string }
variable "issuer_host" { type = string }
variable "issuer_thumbprint" { type = string }
variable "sub_prefix" { type = string }

resource "aws_iam_openid_connect_provider" "runs" {
  url             = var.issuer_url
  client_id_list  = ["aws.workload.identity"]
  thumbprint_list = [var.issuer_thumbprint]
  tags            = { purpose = "run-credentials" }
}

data "aws_iam_policy_document" "trust" {
  for_each = toset(["plan", "apply"])
  statement {
    sid     = "RunPhase${title(each.key)}"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity", "sts:SetSourceIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.runs.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.issuer_host}:aud"
      values   = ["aws.workload.identity"]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.issuer_host}:sub"
      values   = ["${var.sub_prefix}:${each.key}"]
    }
  }
}

resource "aws_iam_role" "phase" {
  for_each             = toset(["plan", "apply"])
  name                 = "tfc-${each.key}"
  path                 = "/runs/"
  description          = "Terraform ${each.key} phase of the networking workspace"
  assume_role_policy   = data.aws_iam_policy_document.trust[each.key].json
  max_session_duration = 7200
  tags                 = { phase = each.key }
}

# The hub roles may only chain into the member accounts' roles of the same phase.
resource "aws_iam_policy" "chain" {
  for_each    = toset(["plan", "apply"])
  name        = "chain-${each.key}"
  path        = "/runs/"
  description = "Assume the ${each.key} roles of member accounts"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "ChainIntoMembers"
      Effect   = "Allow"
      Action   = "sts:AssumeRole"
      Resource = "arn:aws:iam::*:role/terraform-${each.key}"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "chain" {
  for_each   = toset(["plan", "apply"])
  role       = aws_iam_role.phase[each.key].name
  policy_arn = aws_iam_policy.chain[each.key].arn
}

resource "aws_iam_role_policy" "read" {
  for_each = toset(["plan", "apply"])
  name     = "read-iam"
  role     = aws_iam_role.phase[each.key].name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Sid = "ReadIam", Effect = "Allow", Action = ["iam:Get*", "iam:List*"], Resource = "*" }]
  })
}

output "plan_role_arn" { value = aws_iam_role.phase["plan"].arn }
output "apply_role_arn" { value = aws_iam_role.phase["apply"].arn }
output "oidc_provider_arn" { value = aws_iam_openid_connect_provider.runs.arn }
