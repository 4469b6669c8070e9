# The execution role (created by module.function) is used by the function and
# by its event source mapping, which reads the source and writes to the
# on-failure destination with it. Every statement here is generated from an
# input ARN; no action is a wildcard. The X-Ray statement, the log group and
# the environment key are added by the lambda-function module.

locals {
  # What a polling Kinesis consumer calls on the stream (ListShards and
  # DescribeStreamSummary included: Lambda discovers shards with them).
  kinesis_read_actions = [
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
  ]

  # Authorised against the consumer ARN, not the stream.
  kinesis_efo_actions = [
    "kinesis:DescribeStreamConsumer",
    "kinesis:SubscribeToShard",
  ]

  # dynamodb:ListStreams is left out: it cannot be scoped to a stream (it
  # lists the account's streams) and the mapping already knows its stream ARN.
  dynamodb_stream_read_actions = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
  ]

  # Who calls KMS for the role, per key (kms:ViaService): the source's service reads the source
  # key (local.source_service: kinesis or dynamodb); the services it writes through (tables,
  # DLQ, on-failure destination) use the others.
  # No statement allows a direct KMS call by the code.
  write_services = sort(distinct(concat(
    length(var.dynamodb_table_arns) > 0 ? ["dynamodb"] : [],
    var.dlq_arn != null ? ["sqs"] : [],
    local.destination_service != null ? [local.destination_service] : [],
  )))
  via_service = { for service in distinct(concat([local.source_service], local.write_services)) : service => "${service}.${data.aws_region.current.id}.${data.aws_partition.current.dns_suffix}" }

  # Statements derived from the inputs only, so the policy is known at plan
  # time whenever the ARNs are (and tests can assert on it).
  policy_statements = concat(
    local.source_type == "dynamodb" ? [] : [{
      sid       = "ReadKinesisStream"
      actions   = local.kinesis_read_actions
      resources = [local.kinesis_stream_arn]
    }],
    local.source_type == "kinesis-efo" ? [{
      sid       = "SubscribeToConsumer"
      actions   = local.kinesis_efo_actions
      resources = [var.event_source_arn]
    }] : [],
    local.source_type == "dynamodb" ? [{
      sid       = "ReadDynamoDBStream"
      actions   = local.dynamodb_stream_read_actions
      resources = [var.event_source_arn]
    }] : [],
    # PutItem grants nothing BatchWriteItem does not; no read, update or
    # delete action is granted.
    length(var.dynamodb_table_arns) > 0 ? [{
      sid       = "WriteTables"
      actions   = ["dynamodb:BatchWriteItem", "dynamodb:PutItem"]
      resources = sort(distinct(var.dynamodb_table_arns))
    }] : [],
    # sqs:SendMessage also authorises SendMessageBatch.
    var.dlq_arn != null ? [{
      sid       = "SendToDeadLetterQueue"
      actions   = ["sqs:SendMessage"]
      resources = [var.dlq_arn]
    }] : [],
    # The on-failure permission follows the destination's service.
    local.destination_service == "sns" ? [{
      sid       = "PublishOnFailure"
      actions   = ["sns:Publish"]
      resources = [var.on_failure_destination_arn]
    }] : [],
    local.destination_service == "sqs" ? [{
      sid       = "SendOnFailure"
      actions   = ["sqs:SendMessage"]
      resources = [var.on_failure_destination_arn]
    }] : [],
    # Lambda writes the on-failure objects under aws/lambda/<mapping UUID>/<shard>/..., and
    # nowhere else; ListBucket is among the permissions AWS lists for an S3 destination.
    local.destination_service == "s3" ? [
      {
        sid       = "PutOnFailureObjects"
        actions   = ["s3:PutObject"]
        resources = ["${var.on_failure_destination_arn}/aws/lambda/*"]
      },
      {
        sid       = "ListOnFailureBucket"
        actions   = ["s3:ListBucket"]
        resources = [var.on_failure_destination_arn]
      },
    ] : [],
    # Reading an encrypted source needs Decrypt only, through its own service: a read-only
    # consumer can make no data key with the stream's key.
    var.source_kms_key_arn != null ? [{
      sid       = "DecryptSource"
      actions   = ["kms:Decrypt"]
      resources = [var.source_kms_key_arn]
    }] : [],
    # Writing to encrypted tables, queues, topics and buckets: GenerateDataKey for the new data,
    # Decrypt for what SQS, SNS and S3 multipart uploads read back; through those services only.
    length(var.kms_key_arns) > 0 && length(local.write_services) > 0 ? [{
      sid       = "UseKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = sort(distinct(var.kms_key_arns))
    }] : [],
  )

  # The conditions of the statements above, by sid: every key statement is usable only
  # through the services named.
  policy_conditions = {
    DecryptSource = [{ test = "StringEquals", variable = "kms:ViaService", values = [local.via_service[local.source_service]] }]
    UseKeys       = [{ test = "StringEquals", variable = "kms:ViaService", values = [for service in local.write_services : local.via_service[service]] }]
  }
}

data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_iam_policy_document" "this" {
  # Application-specific statements; the module's statements (and the child's
  # WriteTraces) take precedence over any that reuse one of their sids. The
  # rendered document is the child's policy_json.
  source_policy_documents = var.additional_policy_json == null ? [] : [var.additional_policy_json]

  dynamic "statement" {
    for_each = local.policy_statements

    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = lookup(local.policy_conditions, statement.value.sid, [])

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}
