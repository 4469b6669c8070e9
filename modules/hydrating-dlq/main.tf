locals {
  # Means `var.kms_key_arn == null`. Checkov renders a null default as a value,
  # resolves that form to false and drops the key, with its rotation and
  # policy checks, from the scan; this form keeps the key in it.
  create_kms_key = !(var.kms_key_arn != null)
  kms_key_arn    = local.create_kms_key ? module.kms_key[0].key_arn : var.kms_key_arn

  topic_name    = "${var.name}-on-failure"
  dlq_name      = "${var.name}-dlq"
  function_name = "${var.name}-hydrate"
  # Per pipeline, never one namespace shared by every pipeline of the account.
  metrics_namespace = coalesce(var.powertools_metrics_namespace, "StreamPipeline/${var.name}")
  # Bucket names are global: AWS appends a unique suffix to the prefix
  # (at most 37 characters).
  bucket_prefix = "${substr(var.name, 0, 27)}-failures-"

  # The stream type is read from each ARN, as stream-consumer does.
  kinesis_stream_arns  = sort(distinct([for arn in var.source_stream_arns : arn if element(split(":", arn), 2) == "kinesis"]))
  dynamodb_stream_arns = sort(distinct([for arn in var.source_stream_arns : arn if element(split(":", arn), 2) == "dynamodb"]))

  hydrate_environment = merge(
    {
      DLQ_URL         = aws_sqs_queue.this.url
      DLQ_MAC_KEY_ARN = aws_kms_key.mac.arn
      # Only these streams' on-failure records are read; any other is dead-lettered unread.
      SOURCE_STREAM_ARNS           = join(",", sort(distinct(var.source_stream_arns)))
      POWERTOOLS_SERVICE_NAME      = var.powertools_service_name
      POWERTOOLS_METRICS_NAMESPACE = local.metrics_namespace
    },
    var.enable_s3_failure_bucket ? { PAYLOAD_BUCKET = aws_s3_bucket.this[0].id } : {},
  )
}

data "aws_partition" "current" {}

data "aws_region" "current" {}

# The consumers' event source mappings publish here the record of every
# batch they give up on (shard and sequence numbers, not the data).
resource "aws_sns_topic" "this" {
  name              = local.topic_name
  kms_master_key_id = local.kms_key_arn

  tags = var.tags
}

# The hydrate function re-reads those records from their stream while they
# are retained, and sends them to the DLQ with their data.
module "hydrate" {
  source = "../lambda-function"

  name        = local.function_name
  description = "Re-reads the records of failed stream batches and sends them to ${local.dlq_name}"
  handler     = var.handler
  filename    = var.filename
  # Null: the child computes filebase64sha256(filename).
  source_code_hash = var.source_code_hash

  runtime       = var.runtime
  architectures = var.architectures
  layers        = var.layers

  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions

  environment_variables = local.hydrate_environment

  # The module's key (or the caller's): kms-key's key_arn is known only after
  # apply, so the function is told explicitly not to create a key of its own.
  create_kms_key        = false
  kms_key_arn           = local.kms_key_arn
  log_retention_in_days = var.log_retention_in_days

  role_permissions_boundary_arn = var.role_permissions_boundary_arn
  policy_name                   = "hydrating-dlq"
  policy_json                   = data.aws_iam_policy_document.hydrate.json

  tags = var.tags
}

# SNS invokes the function asynchronously: only this topic may.
resource "aws_lambda_permission" "sns" {
  statement_id  = "AllowInvokeFromOnFailureTopic"
  action        = "lambda:InvokeFunction"
  function_name = module.hydrate.function_name
  principal     = "sns.${data.aws_partition.current.dns_suffix}"
  source_arn    = aws_sns_topic.this.arn
}

resource "aws_sns_topic_subscription" "hydrate" {
  topic_arn = aws_sns_topic.this.arn
  protocol  = "lambda"
  endpoint  = module.hydrate.function_arn

  # A notification SNS cannot deliver (after its own retries, e.g. when the
  # function or its permission is gone) goes to the DLQ instead of being
  # dropped: it still holds the failed batch's coordinates.
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.this.arn
  })

  # Delivery needs the invoke permission, and redrive the queue policy.
  depends_on = [aws_lambda_permission.sns, aws_sqs_queue_policy.this]
}

# When hydration itself fails (stream unreadable, DLQ refused the envelopes),
# Lambda retries the asynchronous invocation, then sends its record, which
# holds the original SNS notification, to the DLQ: the replay CLI re-hydrates
# it while the stream still retains the data.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = module.hydrate.function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = var.maximum_event_age_in_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.this.arn
    }
  }

  # Lambda sends to the destination with the function's role.
  depends_on = [module.hydrate]
}

# The topic policy, always: no request over plain HTTP, and no subscription but the hydrate
# function's (the notifications name the failed batches' streams, shards and consumers; another
# subscriber could learn them, or a Lambda of another account be invoked with them). With
# consumer_role_arns it is also the list of who may put on-failure records on the topic: those
# roles, and nobody else (a deny overrides any IAM allow in the account). Without it the
# account's IAM decides who may publish, as for any topic.
resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

data "aws_iam_policy_document" "topic" {
  dynamic "statement" {
    for_each = length(var.consumer_role_arns) > 0 ? [1] : []

    content {
      sid       = "ConsumersPublish"
      effect    = "Allow"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.this.arn]

      principals {
        type        = "AWS"
        identifiers = sort(distinct(var.consumer_role_arns))
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.consumer_role_arns) > 0 ? [1] : []

    content {
      sid       = "DenyPublishByOthers"
      effect    = "Deny"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.this.arn]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "ArnNotEquals"
        variable = "aws:PrincipalArn"
        values   = sort(distinct(var.consumer_role_arns))
      }
    }
  }

  # Subscribe is authorised with the subscriber's endpoint (sns:Endpoint, sns:Protocol): only
  # the hydrate function, by the Lambda protocol, whoever asks.
  statement {
    sid       = "DenySubscribeExceptHydrate"
    effect    = "Deny"
    actions   = ["sns:Subscribe"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "sns:Endpoint"
      values   = [module.hydrate.function_arn]
    }
  }

  statement {
    sid       = "DenySubscribeByOtherProtocols"
    effect    = "Deny"
    actions   = ["sns:Subscribe"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "sns:Protocol"
      values   = ["lambda"]
    }
  }

  # The notifications name the pipeline's streams and consumers: never over plain HTTP.
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish", "sns:Subscribe"]
    resources = [aws_sns_topic.this.arn]

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

# Before the policy was created with every topic (TLS-only, subscriptions), it existed only with
# consumer_role_arns.
moved {
  from = aws_sns_topic_policy.this[0]
  to   = aws_sns_topic_policy.this
}
