# The key that authenticates DLQ envelopes: the pipeline's functions (the hydrate function and
# consumer_role_arns) sign each envelope with kms:GenerateMac, the replay checks it with
# kms:VerifyMac, so a message planted by anyone else with sqs:SendMessage is refused. The key
# material never leaves KMS; one GenerateMac per dead-lettered record, never per good record.
resource "aws_kms_key" "mac" {
  description              = "Authenticates the DLQ envelopes of ${var.name} (HMAC, sign: its functions, verify: its replay)"
  key_usage                = "GENERATE_VERIFY_MAC"
  customer_master_key_spec = "HMAC_256"
  # KMS rotates symmetric encryption keys only. Rotate an HMAC key by replacing it: envelopes
  # signed with the old one are replayed with its ARN (--mac-key) before it is deleted.
  enable_key_rotation     = false
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  is_enabled              = true

  tags = var.tags
}

# Attached separately: it names the account root, read from the key's own ARN (no
# aws_caller_identity, which cannot be planned without credentials), and the writer roles.
resource "aws_kms_key_policy" "mac" {
  key_id = aws_kms_key.mac.id
  policy = data.aws_iam_policy_document.mac.json
}

locals {
  mac_key_partition = element(split(":", aws_kms_key.mac.arn), 1)
  mac_key_account   = element(split(":", aws_kms_key.mac.arn), 4)
  # Who may sign (and write to the DLQ): the hydrate function and the consumers.
  envelope_writer_role_arns = sort(distinct(concat([module.hydrate.role_arn], var.consumer_role_arns)))
}

data "aws_iam_policy_document" "mac" {
  #checkov:skip=CKV_AWS_109:KMS key policy: Resource "*" means "this key" only (key policy semantics); administration is delegated to the owning account's IAM, as in the AWS default key policy.
  #checkov:skip=CKV_AWS_111:KMS key policy: Resource "*" means "this key" only; which principals may use it is decided by the account's IAM policies, and the Deny below keeps kms:GenerateMac to the writer roles.
  #checkov:skip=CKV_AWS_356:KMS key policy: Resource "*" is the only documented form and is scoped to the key the policy is attached to.

  # The account's IAM administers the key and decides who verifies (the actions of an HMAC
  # key, listed instead of kms:*). Break-glass: an administrator can always change this policy.
  statement {
    sid    = "AccountIamDelegation"
    effect = "Allow"

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.mac_key_partition}:iam::${local.mac_key_account}:root"]
    }

    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:CreateGrant",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:EnableKey",
      "kms:GenerateMac",
      "kms:GetKeyPolicy",
      "kms:ListGrants",
      "kms:ListKeyPolicies",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:RetireGrant",
      "kms:RevokeGrant",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
      "kms:VerifyMac",
    ]
    resources = ["*"]
  }

  # Signing is what makes an envelope trusted: nobody but the writer roles, whatever their IAM
  # policies say (a Deny wins over any Allow), and no grant can hand it out.
  statement {
    sid       = "DenyGenerateMacByOthers"
    effect    = "Deny"
    actions   = ["kms:GenerateMac"]
    resources = ["*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = local.envelope_writer_role_arns
    }
  }

  dynamic "statement" {
    for_each = length(var.replay_role_arns) > 0 ? [1] : []

    content {
      sid       = "ReplayVerifies"
      effect    = "Allow"
      actions   = ["kms:DescribeKey", "kms:VerifyMac"]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = sort(distinct(var.replay_role_arns))
      }
    }
  }
}
