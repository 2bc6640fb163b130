# Member account: two roles that trust only the hub's role of the same phase (never the hub account
# root), read-only for plan and able to manage IAM for apply.
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "plan_role_arn" { type = string }
variable "apply_role_arn" { type = string }

resource "aws_iam_role" "plan" {
  name = "terraform-plan"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "HubPlanOnly"
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { AWS = var.plan_role_arn }
    }]
  })
}

resource "aws_iam_role" "apply" {
  name = "terraform-apply"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "HubApplyOnly"
      Effect    = "Allow"
      Action    = ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]
      Principal = { AWS = var.apply_role_arn }
    }]
  })
}

data "aws_iam_policy" "read_only" {
  arn = "arn:aws:iam::aws:policy/IAMReadOnlyAccess"
}

resource "aws_iam_role_policy_attachment" "plan_read" {
  role       = aws_iam_role.plan.name
  policy_arn = data.aws_iam_policy.read_only.arn
}

resource "aws_iam_role_policy_attachment" "apply_admin" {
  role       = aws_iam_role.apply.name
  policy_arn = "arn:aws:iam::aws:policy/IAMFullAccess"
}

output "role_arn" { value = aws_iam_role.apply.arn }
