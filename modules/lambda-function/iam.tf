# The execution role. The caller passes the function's own permissions as a
# policy document (policy_json); this module adds what every function of the
# library needs: X-Ray, its log group and the key of its environment.

data "aws_iam_policy_document" "assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.${data.aws_partition.current.dns_suffix}"]
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
  # the function's behalf.
  statement {
    sid       = "DecryptEnvironment"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [local.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "own_resources" {
  name   = "own-resources"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.own_resources.json
}
