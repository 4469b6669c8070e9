# Permissions of the hydrate function (passed to module.hydrate, which adds
# X-Ray, its log group and its environment key), and the policy document the
# consumers' roles need to use this module as their on-failure destination.
# Every statement names its resources; no action is a wildcard.

data "aws_iam_policy_document" "hydrate" {
  # Only what the hydrate function does to re-read a failed batch: find the
  # shard (DescribeStreamSummary, ListShards) and read its range.
  dynamic "statement" {
    for_each = length(local.kinesis_stream_arns) > 0 ? [1] : []

    content {
      sid    = "ReadKinesisStreams"
      effect = "Allow"
      actions = [
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
      ]
      resources = local.kinesis_stream_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.dynamodb_stream_arns) > 0 ? [1] : []

    content {
      sid       = "ReadDynamoDBStreams"
      effect    = "Allow"
      actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
      resources = local.dynamodb_stream_arns
    }
  }

  # sqs:SendMessage also authorises SendMessageBatch; Lambda's on-failure
  # destination sends with the same permission.
  statement {
    sid       = "SendToDeadLetterQueue"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this.arn]
  }

  # Claim-checks: the record's bytes, keyed by envelope id. Written only,
  # never read or deleted by the function.
  dynamic "statement" {
    for_each = var.enable_s3_failure_bucket ? [1] : []

    content {
      sid       = "PutPayloadObjects"
      effect    = "Allow"
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.this[0].arn}/*"]
    }
  }

  # Encrypted streams are read through Kinesis/DynamoDB, which decrypt with
  # the reader's permission on the stream's key: through those services only.
  dynamic "statement" {
    for_each = length(var.source_kms_key_arns) > 0 ? [1] : []

    content {
      sid       = "DecryptSourceStreams"
      effect    = "Allow"
      actions   = ["kms:Decrypt"]
      resources = sort(distinct(var.source_kms_key_arns))

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = local.source_via_services
      }
    }
  }

  # Every envelope is signed (DLQ_MAC_KEY_ARN): one call per dead-lettered record.
  statement {
    sid       = "SignEnvelopes"
    effect    = "Allow"
    actions   = ["kms:GenerateMac"]
    resources = [aws_kms_key.mac.arn]
  }

  # The DLQ and the bucket are encrypted with the module's key: sending to
  # them needs a data key (and Decrypt, which SQS and multipart uploads call),
  # through SQS and S3 only (Lambda's on-failure destination sends with this role too).
  statement {
    sid       = "UseOwnKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [for service in concat(["sqs"], var.enable_s3_failure_bucket ? ["s3"] : []) : local.via_service[service]]
    }
  }
}

locals {
  via_service = { for service in ["dynamodb", "kinesis", "s3", "sns", "sqs"] : service => "${service}.${data.aws_region.current.id}.${data.aws_partition.current.dns_suffix}" }
  # The services a source key is read through: Kinesis, and DynamoDB for DynamoDB streams.
  source_via_services = [
    for service in concat(
      length(local.kinesis_stream_arns) > 0 ? ["kinesis"] : [],
      length(local.dynamodb_stream_arns) > 0 ? ["dynamodb"] : [],
    ) : local.via_service[service]
  ]
}

data "aws_iam_policy_document" "consumer" {
  # The sid of the destination statement is stream-consumer's own: passed to it
  # as additional_policy_json, the statement it also generates from
  # on_failure_destination_arn replaces this one instead of duplicating it.
  # Nothing on the bucket: a consumer publishing to the topic writes no object
  # (an S3 destination's PutObject under aws/lambda/ and ListBucket come from
  # stream-consumer's on_failure_destination_arn; claim-checks from the caller,
  # under the consumer's own prefix).
  statement {
    sid       = "PublishOnFailure"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
  }

  # Consumers sign the envelopes they send to the DLQ (DLQ_MAC_KEY_ARN); the
  # key policy also requires them in consumer_role_arns.
  statement {
    sid       = "SignDlqEnvelopes"
    effect    = "Allow"
    actions   = ["kms:GenerateMac"]
    resources = [aws_kms_key.mac.arn]
  }

  # A sid of its own (not stream-consumer's UseKeys), so that the consumer's
  # kms_key_arns never replace it. Through the services that store with it
  # only: SNS (the topic), SQS (the DLQ, for poison records) and S3 (the bucket).
  statement {
    sid       = "UseHydratingDlqKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [local.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [for service in concat(["sns", "sqs"], var.enable_s3_failure_bucket ? ["s3"] : []) : local.via_service[service]]
    }
  }
}
