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

  # The hydrate function sends envelopes, and Lambda its failed invocations,
  # with the function's role. Its IAM policy grants the same; the queue names
  # its module's writers too, for the reviewer. Other roles of the account
  # (a consumer sending its poison records through stream-consumer's
  # dlq_arn) write with their IAM permission alone.
  statement {
    sid       = "HydrateFunctionSends"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this.arn]

    principals {
      type        = "AWS"
      identifiers = [module.hydrate.role_arn]
    }
  }
}
