# A member account's run roles: `plan` may read, `apply` may write; each trusts only the hub role
# of the same phase (chained sessions from a run's web identity).
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "hub_roles" {
  type        = map(string)
  description = "Hub role ARN by phase (plan, apply)."
}

resource "aws_iam_role" "phase" {
  for_each = var.hub_roles
  name     = each.key
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = each.value }
      Action    = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]
    }]
  })
}

resource "aws_iam_role_policy_attachment" "plan_reads" {
  role       = aws_iam_role.phase["plan"].name
  policy_arn = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
}

resource "aws_iam_role_policy_attachment" "apply_writes" {
  role       = aws_iam_role.phase["apply"].name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

output "roles" { value = { for k, r in aws_iam_role.phase : k => r.arn } }
