# Identity policies published as outputs for producers and consumers to
# attach; every statement names the stream, its consumers or its key.

locals {
  # What a polling consumer, including a Lambda event source mapping, calls.
  stream_read_actions = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
  ]

  stream_write_actions = [
    "kinesis:DescribeStreamSummary",
    "kinesis:ListShards",
    "kinesis:PutRecord",
    "kinesis:PutRecords",
  ]

  # Both actions are authorised against the consumer ARN, not the stream.
  consumer_subscribe_actions = [
    "kinesis:DescribeStreamConsumer",
    "kinesis:SubscribeToShard",
  ]
}

data "aws_iam_policy_document" "producer" {
  statement {
    sid       = "WriteRecords"
    effect    = "Allow"
    actions   = local.stream_write_actions
    resources = [aws_kinesis_stream.this.arn]
  }

  statement {
    sid       = "EncryptRecordsViaKinesis"
    effect    = "Allow"
    actions   = ["kms:GenerateDataKey"]
    resources = [local.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.kinesis_via_service]
    }
  }
}

data "aws_iam_policy_document" "consumer" {
  statement {
    sid       = "ReadRecords"
    effect    = "Allow"
    actions   = local.stream_read_actions
    resources = [aws_kinesis_stream.this.arn]
  }

  statement {
    sid       = "DecryptRecordsViaKinesis"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [local.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.kinesis_via_service]
    }
  }
}

# Without registered consumers there is nothing to subscribe to, and a
# statement with no resources is not a valid policy.
data "aws_iam_policy_document" "efo_consumer" {
  count = length(var.consumers) > 0 ? 1 : 0

  source_policy_documents = [data.aws_iam_policy_document.consumer.json]

  statement {
    sid       = "SubscribeToRegisteredConsumers"
    effect    = "Allow"
    actions   = local.consumer_subscribe_actions
    resources = [for consumer in aws_kinesis_stream_consumer.this : consumer.arn]
  }
}

# Resource policies: grant principals (usually other accounts) access to the
# stream and to individual registered consumers.

data "aws_iam_policy_document" "stream_resource_policy" {
  count = local.create_stream_policy ? 1 : 0

  dynamic "statement" {
    for_each = length(local.writer_principal_arns) > 0 ? [1] : []

    content {
      sid    = "SharedProducers"
      effect = "Allow"

      principals {
        type        = "AWS"
        identifiers = local.writer_principal_arns
      }

      actions   = local.stream_write_actions
      resources = [aws_kinesis_stream.this.arn]
    }
  }

  dynamic "statement" {
    for_each = length(local.reader_principal_arns) > 0 ? [1] : []

    content {
      sid    = "SharedConsumers"
      effect = "Allow"

      principals {
        type        = "AWS"
        identifiers = local.reader_principal_arns
      }

      actions   = local.stream_read_actions
      resources = [aws_kinesis_stream.this.arn]
    }
  }
}

data "aws_iam_policy_document" "consumer_resource_policy" {
  for_each = local.shared_consumers

  statement {
    sid    = "SharedEnhancedFanOut"
    effect = "Allow"

    principals {
      type        = "AWS"
      identifiers = sort(distinct(each.value.principal_arns))
    }

    actions   = local.consumer_subscribe_actions
    resources = [aws_kinesis_stream_consumer.this[each.key].arn]
  }
}
