# Every validation rule and precondition is proven to reject a bad value (both
# sides of the bounded ranges). Variable checks are independent, so one run
# sets several variables to bad values -- each labelled with the rule it
# proves -- and lists each in expect_failures: the run fails when any rule
# stops rejecting its value ("Missing expected failure"), or when anything
# else fails. A variable, and an expected failure, appear once per run, hence
# several runs. Runs that check more than an expected failure stay on their own.
#
# The package's rules (a zip or a source folder) are proven with the message the
# user reads, in tests/modules/test_validation_messages.py (one plan for all).
#
# The function's variables (name, handler, filename, runtime, layers, memory,
# timeout, keys, logs, role...) are passed through to module.function, which
# validates them; their runs live in
# modules/lambda-function/tests/validation.tftest.hcl.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name    = "orders-processor"
  handler = "stream_processor.app.lambda_handler"
  layers  = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]
  package = {
    filename = "../../build/stream_processor.zip"
    # Given, so the package need not exist for these tests.
    source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
  }

  event_source_arn           = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"
  on_failure_destination_arn = "arn:aws:sns:eu-west-1:111122223333:orders-on-failure"
}

run "rejects_invalid_values_1" {
  command = plan

  variables {
    # rejects_additional_policy_without_statement
    additional_policy_json = "{\"Version\":\"2012-10-17\"}"

    # rejects_batch_size_above_10000
    batch_size = 10001

    # rejects_non_sqs_dlq
    dlq_arn = "arn:aws:sns:eu-west-1:111122223333:orders-dlq"

    # rejects_table_stream_arn_as_table
    dynamodb_table_arns = ["arn:aws:dynamodb:eu-west-1:111122223333:table/orders/stream/2025-01-31T00:00:00.000"]

    # rejects_unsupported_event_source
    event_source_arn = "arn:aws:sqs:eu-west-1:111122223333:orders"

    # rejects_more_than_10_filters
    filter_criteria = [for i in range(11) : jsonencode({ data = { shard = [i] } })]

    # rejects_key_alias_in_kms_key_arns
    kms_key_arns = ["alias/orders"]

    # rejects_batching_window_above_300
    maximum_batching_window_in_seconds = 301

    # rejects_record_age_below_60
    maximum_record_age_in_seconds = 59

    # rejects_retries_below_minus_1
    maximum_retry_attempts = -2

    # rejects_lambda_as_on_failure_destination
    on_failure_destination_arn = "arn:aws:lambda:eu-west-1:111122223333:function:hydrate"

    # rejects_parallelization_factor_above_10
    parallelization_factor = 11

    # rejects_key_alias_as_source_kms_key_arn
    source_kms_key_arn = "alias/orders-stream"

    # rejects_unknown_starting_position
    starting_position = "EARLIEST"

    # rejects_tumbling_window_above_900
    tumbling_window_in_seconds = 901
  }

  expect_failures = [
    var.additional_policy_json,
    var.batch_size,
    var.dlq_arn,
    var.dynamodb_table_arns,
    var.event_source_arn,
    var.filter_criteria,
    var.kms_key_arns,
    var.maximum_batching_window_in_seconds,
    var.maximum_record_age_in_seconds,
    var.maximum_retry_attempts,
    var.on_failure_destination_arn,
    var.parallelization_factor,
    var.source_kms_key_arn,
    var.starting_position,
    var.tumbling_window_in_seconds,
  ]
}

run "rejects_invalid_values_2" {
  command = plan

  variables {
    # rejects_batch_size_zero
    batch_size = 0

    # rejects_filter_that_is_not_a_json_object
    filter_criteria = ["data.eventType = purchase"]

    # rejects_record_age_above_7_days
    maximum_record_age_in_seconds = 604801

    # rejects_retries_above_10000
    maximum_retry_attempts = 10001

    # rejects_non_rfc3339_timestamp
    starting_position           = "AT_TIMESTAMP"
    starting_position_timestamp = "31/01/2025"

    # rejects_kafka_only_metric_group
    mapping_metrics = ["EventCount", "ErrorCount"]
  }

  expect_failures = [
    var.mapping_metrics,
    var.batch_size,
    var.filter_criteria,
    var.maximum_record_age_in_seconds,
    var.maximum_retry_attempts,
    var.starting_position_timestamp,
  ]
}

# Cross-variable rules (lifecycle preconditions).
run "requires_on_failure_destination_without_opt_out" {
  command = plan

  variables {
    on_failure_destination_arn = null
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

# A window on a function that does not return the window's state: every invocation would fail.
run "rejects_tumbling_window_without_window_aware" {
  command = plan

  variables {
    tumbling_window_in_seconds = 60
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

run "accepts_tumbling_window_when_window_aware" {
  command = plan

  variables {
    tumbling_window_in_seconds = 60
    window_aware               = true
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.tumbling_window_in_seconds == 60
    error_message = "A window-aware function's mapping gets its tumbling window."
  }
}

run "rejects_unbounded_retries_with_unbounded_age" {
  command = plan

  variables {
    maximum_retry_attempts        = -1
    maximum_record_age_in_seconds = -1
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

run "requires_timestamp_for_at_timestamp" {
  command = plan

  variables {
    starting_position = "AT_TIMESTAMP"
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

run "rejects_timestamp_without_at_timestamp" {
  command = plan

  variables {
    starting_position           = "LATEST"
    starting_position_timestamp = "2025-01-31T00:00:00Z"
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

run "rejects_at_timestamp_for_dynamodb" {
  command = plan

  variables {
    event_source_arn            = "arn:aws:dynamodb:eu-west-1:111122223333:table/profiles/stream/2025-01-31T00:00:00.000"
    starting_position           = "AT_TIMESTAMP"
    starting_position_timestamp = "2025-01-31T00:00:00Z"
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

run "rejects_record_age_beyond_dynamodb_retention" {
  command = plan

  variables {
    event_source_arn              = "arn:aws:dynamodb:eu-west-1:111122223333:table/profiles/stream/2025-01-31T00:00:00.000"
    maximum_record_age_in_seconds = 86400
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}

# package: one expected failure of var.package per run.
