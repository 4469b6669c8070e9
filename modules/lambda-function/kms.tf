resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description              = "Environment variables and log group of Lambda function ${var.name}"
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  enable_key_rotation      = true
  deletion_window_in_days  = var.kms_key_deletion_window_in_days
  is_enabled               = true

  tags = var.tags
}

# The key policy is attached separately because it names the account, and the
# account ID is read from the key's own ARN: that keeps the module free of
# aws_caller_identity, which cannot be planned without AWS credentials.
resource "aws_kms_key_policy" "this" {
  count = local.create_kms_key ? 1 : 0

  key_id = aws_kms_key.this[0].id
  policy = data.aws_iam_policy_document.kms[0].json
}

locals {
  kms_key_partition = local.create_kms_key ? element(split(":", aws_kms_key.this[0].arn), 1) : null
  kms_key_account   = local.create_kms_key ? element(split(":", aws_kms_key.this[0].arn), 4) : null
}

data "aws_iam_policy_document" "kms" {
  count = local.create_kms_key ? 1 : 0

  #checkov:skip=CKV_AWS_109:KMS key policy: Resource "*" means "this key" only (AWS KMS key policy semantics); management is delegated to the owning account's IAM, as in the AWS default key policy.
  #checkov:skip=CKV_AWS_111:KMS key policy: Resource "*" means "this key" only; the CloudWatch Logs grant is further limited to this function's log group by the encryption context.
  #checkov:skip=CKV_AWS_356:KMS key policy: Resource "*" is the only documented form and is scoped to the key the policy is attached to.

  statement {
    sid    = "AccountIamDelegation"
    effect = "Allow"

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.kms_key_partition}:iam::${local.kms_key_account}:root"]
    }

    # Every action that applies to a symmetric encryption key, listed instead
    # of kms:* so the grant is explicit; account IAM policies decide who gets
    # which of them (the same delegation the AWS default key policy makes).
    # Lambda creates its grant for the environment variables through this.
    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListGrants",
      "kms:ListKeyPolicies",
      "kms:ListKeyRotations",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:RetireGrant",
      "kms:RevokeGrant",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    resources = ["*"]
  }

  # CloudWatch Logs encrypts with the key itself (not with a caller's
  # credentials), so the service needs a key policy grant; the encryption
  # context pins it to this function's log group.
  statement {
    sid    = "CloudWatchLogsForThisLogGroup"
    effect = "Allow"

    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.name}.${data.aws_partition.current.dns_suffix}"]
    }

    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    resources = ["*"]

    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values = [
        "arn:${local.kms_key_partition}:logs:${data.aws_region.current.name}:${local.kms_key_account}:log-group:${local.log_group_name}",
      ]
    }
  }
}
