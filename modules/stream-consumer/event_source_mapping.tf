resource "aws_lambda_event_source_mapping" "this" {
  function_name    = module.function.function_arn
  event_source_arn = var.event_source_arn
  enabled          = var.enabled

  starting_position           = var.starting_position
  starting_position_timestamp = var.starting_position_timestamp

  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  parallelization_factor             = var.parallelization_factor
  tumbling_window_in_seconds         = var.tumbling_window_in_seconds

  # Failure handling: isolate the poison record, retry a bounded number of
  # times for a bounded age, then hand the batch's coordinates to the
  # on-failure destination and move on, so no shard stays blocked.
  bisect_batch_on_function_error = var.bisect_batch_on_function_error
  maximum_retry_attempts         = var.maximum_retry_attempts
  maximum_record_age_in_seconds  = var.maximum_record_age_in_seconds
  function_response_types        = var.report_batch_item_failures ? ["ReportBatchItemFailures"] : []

  # The mapping's own counts (docs/runbook.md#consumer-dropped-events): DroppedEventCount is the
  # one metric that counts records discarded without reaching the on-failure destination.
  dynamic "metrics_config" {
    for_each = length(var.mapping_metrics) > 0 ? [1] : []

    content {
      metrics = var.mapping_metrics
    }
  }

  dynamic "filter_criteria" {
    for_each = length(var.filter_criteria) > 0 ? [1] : []

    content {
      dynamic "filter" {
        for_each = var.filter_criteria

        content {
          pattern = filter.value
        }
      }
    }
  }

  # Decided by the opt-out first, so the block is known at plan time even
  # when the destination ARN is not (created in the same run).
  dynamic "destination_config" {
    for_each = var.allow_no_on_failure_destination ? (var.on_failure_destination_arn == null ? [] : [1]) : [1]

    content {
      on_failure {
        destination_arn = var.on_failure_destination_arn
      }
    }
  }

  tags = var.tags

  # The mapping is validated against the role when it is created: the read
  # and destination permissions (the child's inline policies) must be in
  # place first.
  depends_on = [module.function]

  lifecycle {
    # Cross-variable rules live here because variable validation may only
    # reference other variables from Terraform 1.9 on.
    precondition {
      condition     = length(var.kms_key_arns) == 0 || length(local.write_services) > 0
      error_message = "kms_key_arns are granted through the services the function writes with (dynamodb_table_arns, dlq_arn, on_failure_destination_arn), and it writes with none: pass the source's key as source_kms_key_arn, and a key used through another service in additional_policy_json with its own kms:ViaService."
    }

    precondition {
      condition     = var.on_failure_destination_arn != null || var.allow_no_on_failure_destination
      error_message = "on_failure_destination_arn is required: without it a batch that exhausts its retries or exceeds maximum_record_age_in_seconds is discarded without a trace. Pass an SNS topic, SQS queue or S3 bucket ARN, or set allow_no_on_failure_destination = true to accept that loss explicitly."
    }

    precondition {
      condition     = !(var.maximum_retry_attempts == -1 && var.maximum_record_age_in_seconds == -1)
      error_message = "maximum_retry_attempts and maximum_record_age_in_seconds cannot both be -1: a poison record would then be retried until it expires from the stream, blocking its shard for the whole retention period and reaching no on-failure destination. Bound at least one of them (defaults: 10 retries, 21600 seconds)."
    }

    precondition {
      condition     = (var.starting_position == "AT_TIMESTAMP") == (var.starting_position_timestamp != null)
      error_message = "starting_position_timestamp is required when starting_position is AT_TIMESTAMP, and must be null otherwise."
    }

    precondition {
      condition     = local.source_type != "dynamodb" || var.starting_position != "AT_TIMESTAMP"
      error_message = "starting_position AT_TIMESTAMP is only supported for Kinesis sources; a DynamoDB stream starts at TRIM_HORIZON or LATEST."
    }

    precondition {
      condition     = var.tumbling_window_in_seconds == 0 || var.window_aware
      error_message = "tumbling_window_in_seconds is ${var.tumbling_window_in_seconds} but the function does not declare itself window_aware: Lambda counts every response without the window's state as a failed invocation (each batch retried, then sent to the on-failure destination after its side effects). Set window_aware = true for a function that returns the state (the consumer kit's TumblingWindowConsumer), or tumbling_window_in_seconds = 0."
    }

    precondition {
      condition     = local.source_type != "dynamodb" || var.maximum_record_age_in_seconds < 86400
      error_message = "maximum_record_age_in_seconds must be below 86400 for a DynamoDB stream, which keeps records for 24 hours: a limit at or above the retention never fires, and records that expire first are lost without reaching the on-failure destination."
    }
  }
}
