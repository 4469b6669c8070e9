# The dead-letter queue: hydrated records (DLQ envelopes with their data, or a
# pointer into the bucket), records of failed hydrate invocations, and SNS
# notifications that could not be delivered. The replay CLI drains it.
resource "aws_sqs_queue" "this" {
  name = local.dlq_name
  # 14 days, the SQS maximum: the longest a failure can wait for an operator.
  message_retention_seconds         = 1209600
  visibility_timeout_seconds        = var.dlq_visibility_timeout_seconds
  kms_master_key_id                 = local.kms_key_arn
  kms_data_key_reuse_period_seconds = 300

  # SNS subscription redrive and Lambda destinations send here directly; no
  # SQS queue may use it as its dead-letter queue, so it only ever holds the
  # three kinds of message above.
  redrive_allow_policy = jsonencode({
    redrivePermission = "denyAll"
  })

  tags = var.tags
}

resource "aws_sqs_queue_policy" "this" {
  queue_url = aws_sqs_queue.this.id
  policy    = data.aws_iam_policy_document.queue.json
}

data "aws_iam_policy_document" "queue" {
  # SNS sends the notifications it cannot deliver (subscription redrive), for
  # this topic only.
  statement {
    sid       = "SnsRedriveFromThisTopic"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this.arn]

    principals {
      type        = "Service"
      identifiers = ["sns.${data.aws_partition.current.dns_suffix}"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.this.arn]
    }
  }

  # The writers: the hydrate function (its envelopes, and Lambda its failed invocations, with
  # the function's role) and the consumers (their poison records). Their IAM policies grant the
  # same; the queue names them for the reviewer, and the Deny below makes them the only ones.
  statement {
    sid       = "WritersSend"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this.arn]

    principals {
      type        = "AWS"
      identifiers = local.envelope_writer_role_arns
    }
  }

  # The readers: the replay roles the operator names (docs/replay.md).
  dynamic "statement" {
    for_each = length(var.replay_role_arns) > 0 ? [1] : []

    content {
      sid = "ReplayReads"
      actions = [
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
      ]
      effect    = "Allow"
      resources = [aws_sqs_queue.this.arn]

      principals {
        type        = "AWS"
        identifiers = sort(distinct(var.replay_role_arns))
      }
    }
  }

  # Deny by default: no other principal of the account plants a message, whatever its IAM
  # policy allows. AWS services writing on their own behalf (SNS subscription redrive, scoped
  # by the statement above) are not principals of the account.
  statement {
    sid       = "DenySendByOthers"
    effect    = "Deny"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = local.envelope_writer_role_arns
    }

    condition {
      test     = "Bool"
      variable = "aws:PrincipalIsAWSService"
      values   = ["false"]
    }
  }

  # Nobody but the replay roles reads, deletes or hides the records; the account root stays
  # allowed (break-glass, see docs/replay.md). Queue administration (policy, attributes) is
  # not denied: an administrator can always name a replay role.
  statement {
    sid = "DenyReadByOthers"
    actions = [
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:PurgeQueue",
      "sqs:ReceiveMessage",
    ]
    effect    = "Deny"
    resources = [aws_sqs_queue.this.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "ArnNotEquals"
      variable = "aws:PrincipalArn"
      values   = sort(distinct(concat(var.replay_role_arns, [local.account_root_arn])))
    }
  }

  # The records travel only over TLS.
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.this.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

locals {
  # The queue's own account and partition (no aws_caller_identity: plannable offline).
  account_root_arn = "arn:${element(split(":", aws_sqs_queue.this.arn), 1)}:iam::${element(split(":", aws_sqs_queue.this.arn), 4)}:root"
}
