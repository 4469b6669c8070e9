resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description              = "Server-side encryption of Kinesis stream ${var.name}"
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  enable_key_rotation      = true
  deletion_window_in_days  = var.kms_key_deletion_window_in_days
  is_enabled               = true

  tags = var.tags
}

# The key policy is attached separately because it names the account root,
# and the account ID is read from the key's own ARN: that keeps the module free
# of aws_caller_identity, which cannot be planned without AWS credentials.
resource "aws_kms_key_policy" "this" {
  count = local.create_kms_key ? 1 : 0

  key_id = aws_kms_key.this[0].id
  policy = data.aws_iam_policy_document.kms[0].json
}

data "aws_iam_policy_document" "kms" {
  count = local.create_kms_key ? 1 : 0

  #checkov:skip=CKV_AWS_109:KMS key policy: Resource "*" means "this key" only (AWS KMS key policy semantics); management is delegated to the owning account's IAM, as in the AWS default key policy.
  #checkov:skip=CKV_AWS_111:KMS key policy: Resource "*" means "this key" only; cross-account use is further limited by kms:ViaService to Kinesis in this Region.
  #checkov:skip=CKV_AWS_356:KMS key policy: Resource "*" is the only documented form and is scoped to the key the policy is attached to.

  statement {
    sid    = "AccountIamDelegation"
    effect = "Allow"

    principals {
      type = "AWS"
      identifiers = [
        format(
          "arn:%s:iam::%s:root",
          element(split(":", aws_kms_key.this[0].arn), 1),
          element(split(":", aws_kms_key.this[0].arn), 4),
        )
      ]
    }

    # Every action that applies to a symmetric encryption key, listed instead
    # of kms:* so the grant is explicit; account IAM policies decide who gets
    # which of them (the same delegation the AWS default key policy makes).
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

  # Cross-account producers only need a data key, and only through Kinesis.
  dynamic "statement" {
    for_each = length(local.writer_principal_arns) > 0 ? [1] : []

    content {
      sid    = "CrossAccountProducersViaKinesis"
      effect = "Allow"

      principals {
        type        = "AWS"
        identifiers = local.writer_principal_arns
      }

      actions   = ["kms:GenerateDataKey"]
      resources = ["*"]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [local.kinesis_via_service]
      }
    }
  }

  # Cross-account consumers (polling and EFO) only need to decrypt, and only
  # through Kinesis.
  dynamic "statement" {
    for_each = length(local.reader_principal_arns) > 0 ? [1] : []

    content {
      sid    = "CrossAccountConsumersViaKinesis"
      effect = "Allow"

      principals {
        type        = "AWS"
        identifiers = local.reader_principal_arns
      }

      actions   = ["kms:Decrypt"]
      resources = ["*"]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [local.kinesis_via_service]
      }
    }
  }
}
