# A customer managed key with rotation and an explicit key policy: the account's IAM
# administers and uses it (as in AWS's default key policy, but with the actions listed), and
# the caller adds the service and cross-account statements its resources need.

resource "aws_kms_key" "this" {
  description              = var.description
  key_usage                = "ENCRYPT_DECRYPT"
  customer_master_key_spec = "SYMMETRIC_DEFAULT"
  enable_key_rotation      = true
  deletion_window_in_days  = var.deletion_window_in_days
  is_enabled               = true

  tags = var.tags
}

# The policy is attached separately because it names the account root, read from the key's own
# ARN: that keeps every module free of aws_caller_identity, which cannot be planned without
# AWS credentials.
resource "aws_kms_key_policy" "this" {
  key_id = aws_kms_key.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_kms_alias" "this" {
  count = var.alias == null ? 0 : 1

  name          = "alias/${var.alias}"
  target_key_id = aws_kms_key.this.key_id
}

locals {
  partition  = element(split(":", aws_kms_key.this.arn), 1)
  account_id = element(split(":", aws_kms_key.this.arn), 4)

  # CloudWatch Logs encrypts with the key itself (not with a caller's credentials), so the
  # service needs a key policy grant; the encryption context pins each grant to one log group
  # of the key's account and of this Region.
  log_group_statements = [
    for sid, log_group_name in var.log_groups : {
      sid            = sid
      principal_type = "Service"
      principals     = ["logs.${data.aws_region.current.id}.${data.aws_partition.current.dns_suffix}"]
      actions = [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
      ]
      conditions = [{
        test     = "ArnEquals"
        variable = "kms:EncryptionContext:aws:logs:arn"
        values   = ["arn:{partition}:logs:${data.aws_region.current.id}:{account_id}:log-group:${log_group_name}"]
      }]
    }
  ]
  statements = concat(var.statements, local.log_group_statements)
}

data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_iam_policy_document" "this" {
  #checkov:skip=CKV_AWS_109:KMS key policy: Resource "*" means "this key" only (key policy semantics); administration is delegated to the owning account's IAM, as in the AWS default key policy.
  #checkov:skip=CKV_AWS_111:KMS key policy: Resource "*" means "this key" only; which principals may use it is decided by the account's IAM policies and the caller's scoped statements.
  #checkov:skip=CKV_AWS_356:KMS key policy: Resource "*" is the only documented form and is scoped to the key the policy is attached to.

  statement {
    sid    = "AccountIamDelegation"
    effect = "Allow"

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }

    # Every action that applies to a symmetric encryption key, listed instead of kms:* so the
    # grant is explicit; the account's IAM policies decide who gets which of them.
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

  dynamic "statement" {
    for_each = local.statements

    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = statement.value.actions
      resources = ["*"]

      principals {
        type        = statement.value.principal_type
        identifiers = statement.value.principals
      }

      dynamic "condition" {
        for_each = statement.value.conditions

        content {
          test     = condition.value.test
          variable = condition.value.variable
          # The key's own account and partition, which callers cannot know at plan time
          # without aws_caller_identity (and cannot read from this key without a cycle).
          values = [
            for value in condition.value.values :
            replace(replace(value, "{account_id}", local.account_id), "{partition}", local.partition)
          ]
        }
      }
    }
  }
}
