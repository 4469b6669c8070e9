# The execution role. The caller passes the function's own permissions as a
# policy document (policy_json); this module adds what every function of the
# library needs: X-Ray, its log group and the key of its environment.

locals {
  # The function's account and Region, read from the ARN of the log group the module creates
  # in them (no aws_caller_identity, which cannot be planned without AWS credentials).
  log_group_arn_parts = split(":", aws_cloudwatch_log_group.this.arn)
  account_id          = local.log_group_arn_parts[4]
  lambda_via_service  = "lambda.${data.aws_region.current.id}.${data.aws_partition.current.dns_suffix}"
}

data "aws_region" "current" {}

data "aws_iam_policy_document" "assume_role" {
  # Lambda, acting for this account only (confused deputy): a function of another account
  # cannot be given this role. No aws:SourceArn: Lambda documents no source ARN for assuming an
  # execution role (the function's? its event source mapping's?), and a condition on a key that
  # is absent denies, which would stop the function and its mapping.
  statement {
    sid     = "LambdaAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.${data.aws_partition.current.dns_suffix}"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = local.role_name
  description          = local.role_description
  assume_role_policy   = data.aws_iam_policy_document.assume_role.json
  permissions_boundary = var.role_permissions_boundary_arn

  tags = var.tags
}

data "aws_iam_policy_document" "this" {
  # The caller's statements first; the module's statement takes precedence
  # over one that reuses its sid.
  source_policy_documents = var.policy_json == null ? [] : [var.policy_json]

  # X-Ray has no resource-level permissions: "*" is the only valid resource.
  statement {
    sid       = "WriteTraces"
    effect    = "Allow"
    actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "this" {
  name   = var.policy_name
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

# Permissions on what the module creates itself, kept apart so the policy
# above stays known at plan time whenever policy_json is.
data "aws_iam_policy_document" "own_resources" {
  # The log group is created by the module: no logs:CreateLogGroup.
  statement {
    sid       = "WriteOwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  # Lambda decrypts the environment variables with this key at cold start on
  # the function's behalf: through Lambda only, never a direct call by the code.
  statement {
    sid       = "DecryptEnvironment"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [local.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.lambda_via_service]
    }
  }
}

resource "aws_iam_role_policy" "own_resources" {
  name   = "own-resources"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.own_resources.json
}
