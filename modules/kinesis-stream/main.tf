locals {
  # Means `var.kms_key_arn == null`. Checkov renders a null default as a value,
  # resolves that form to false and drops the key, with its rotation and
  # policy checks, from the scan; this form keeps the key in it.
  create_kms_key = !(var.kms_key_arn != null)

  kms_key_arn = local.create_kms_key ? module.kms_key[0].key_arn : var.kms_key_arn
  kms_key_id  = local.create_kms_key ? module.kms_key[0].key_id : element(split("/", var.kms_key_arn), 1)

  # SSE requires the key in the stream's Region: the provider's Region (the key's ARN would
  # make the key policy depend on itself).
  kinesis_via_service = "kinesis.${data.aws_region.current.id}.${data.aws_partition.current.dns_suffix}"

  # EFO principals need the stream-level read actions as well (Lambda calls
  # DescribeStream and ListShards before subscribing), so they are readers too.
  reader_principal_arns = sort(distinct(concat(
    var.consumer_principal_arns,
    flatten([for consumer in values(var.consumers) : consumer.principal_arns]),
  )))
  writer_principal_arns = sort(distinct(var.producer_principal_arns))

  create_stream_policy = length(local.reader_principal_arns) + length(local.writer_principal_arns) > 0
  shared_consumers     = { for name, consumer in var.consumers : name => consumer if length(consumer.principal_arns) > 0 }
}

data "aws_partition" "current" {}

data "aws_region" "current" {}

resource "aws_kinesis_stream" "this" {
  name                      = var.name
  shard_count               = var.shard_count
  retention_period          = var.retention_period
  shard_level_metrics       = var.shard_level_metrics
  enforce_consumer_deletion = var.enforce_consumer_deletion

  # Encryption is not optional: records are encrypted with a customer managed
  # key, either the one created here or the caller's.
  encryption_type = "KMS"
  kms_key_id      = local.kms_key_arn

  stream_mode_details {
    stream_mode = var.stream_mode
  }

  tags = var.tags

  # The key's ARN is known only once its policy (with the cross-account grants) is attached,
  # so the stream is created after it and destroyed before it.

  lifecycle {
    # Cross-variable rules live here because variable validation may only
    # reference other variables from Terraform 1.9 on.
    precondition {
      condition     = var.stream_mode != "PROVISIONED" || var.shard_count != null
      error_message = "shard_count is required (>= 1) when stream_mode is PROVISIONED."
    }

    precondition {
      condition     = var.stream_mode != "ON_DEMAND" || var.shard_count == null
      error_message = "shard_count must be null when stream_mode is ON_DEMAND: AWS scales on-demand streams itself."
    }
  }
}

resource "aws_kinesis_stream_consumer" "this" {
  for_each = var.consumers

  name       = each.key
  stream_arn = aws_kinesis_stream.this.arn
}

resource "aws_kinesis_resource_policy" "stream" {
  count = local.create_stream_policy ? 1 : 0

  resource_arn = aws_kinesis_stream.this.arn
  policy       = data.aws_iam_policy_document.stream_resource_policy[0].json
}

resource "aws_kinesis_resource_policy" "consumer" {
  for_each = local.shared_consumers

  resource_arn = aws_kinesis_stream_consumer.this[each.key].arn
  policy       = data.aws_iam_policy_document.consumer_resource_policy[each.key].json
}
