# One expect_failures run per validation rule (both sides of the key ranges)
# and per lifecycle precondition. Each run changes one thing from a valid
# configuration, so the expected failure is the only one.
#
# The function's variables (name, handler, filename, runtime, layers, memory,
# timeout, keys, logs, role...) are passed through to module.function, which
# validates them; their runs live in
# modules/lambda-function/tests/validation.tftest.hcl.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name     = "orders-processor"
  handler  = "stream_processor.app.lambda_handler"
  filename = "../../build/stream_processor.zip"
  # Given, so the package need not exist for these tests.
  source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

  event_source_arn           = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"
  on_failure_destination_arn = "arn:aws:sns:eu-west-1:111122223333:orders-on-failure"
}

run "rejects_additional_policy_without_statement" {
  command = plan

  variables {
    additional_policy_json = "{\"Version\":\"2012-10-17\"}"
  }

  expect_failures = [var.additional_policy_json]
}

run "rejects_batch_size_above_10000" {
  command = plan

  variables {
    batch_size = 10001
  }

  expect_failures = [var.batch_size]
}

run "rejects_batch_size_zero" {
  command = plan

  variables {
    batch_size = 0
  }

  expect_failures = [var.batch_size]
}

run "rejects_non_sqs_dlq" {
  command = plan

  variables {
    dlq_arn = "arn:aws:sns:eu-west-1:111122223333:orders-dlq"
  }

  expect_failures = [var.dlq_arn]
}

run "rejects_table_stream_arn_as_table" {
  command = plan

  variables {
    dynamodb_table_arns = ["arn:aws:dynamodb:eu-west-1:111122223333:table/orders/stream/2025-01-31T00:00:00.000"]
  }

  expect_failures = [var.dynamodb_table_arns]
}

run "rejects_unsupported_event_source" {
  command = plan

  variables {
    event_source_arn = "arn:aws:sqs:eu-west-1:111122223333:orders"
  }

  expect_failures = [var.event_source_arn]
}

run "rejects_more_than_10_filters" {
  command = plan

  variables {
    filter_criteria = [for i in range(11) : jsonencode({ data = { shard = [i] } })]
  }

  expect_failures = [var.filter_criteria]
}

run "rejects_filter_that_is_not_a_json_object" {
  command = plan

  variables {
    filter_criteria = ["data.eventType = purchase"]
  }

  expect_failures = [var.filter_criteria]
}

run "rejects_key_alias_in_kms_key_arns" {
  command = plan

  variables {
    kms_key_arns = ["alias/orders"]
  }

  expect_failures = [var.kms_key_arns]
}

run "rejects_batching_window_above_300" {
  command = plan

  variables {
    maximum_batching_window_in_seconds = 301
  }

  expect_failures = [var.maximum_batching_window_in_seconds]
}

run "rejects_record_age_below_60" {
  command = plan

  variables {
    maximum_record_age_in_seconds = 59
  }

  expect_failures = [var.maximum_record_age_in_seconds]
}

run "rejects_record_age_above_7_days" {
  command = plan

  variables {
    maximum_record_age_in_seconds = 604801
  }

  expect_failures = [var.maximum_record_age_in_seconds]
}

run "rejects_retries_below_minus_1" {
  command = plan

  variables {
    maximum_retry_attempts = -2
  }

  expect_failures = [var.maximum_retry_attempts]
}

run "rejects_retries_above_10000" {
  command = plan

  variables {
    maximum_retry_attempts = 10001
  }

  expect_failures = [var.maximum_retry_attempts]
}

run "rejects_lambda_as_on_failure_destination" {
  command = plan

  variables {
    on_failure_destination_arn = "arn:aws:lambda:eu-west-1:111122223333:function:hydrate"
  }

  expect_failures = [var.on_failure_destination_arn]
}

run "rejects_parallelization_factor_above_10" {
  command = plan

  variables {
    parallelization_factor = 11
  }

  expect_failures = [var.parallelization_factor]
}

run "rejects_unknown_starting_position" {
  command = plan

  variables {
    starting_position = "EARLIEST"
  }

  expect_failures = [var.starting_position]
}

run "rejects_non_rfc3339_timestamp" {
  command = plan

  variables {
    starting_position           = "AT_TIMESTAMP"
    starting_position_timestamp = "31/01/2025"
  }

  expect_failures = [var.starting_position_timestamp]
}

run "rejects_tumbling_window_above_900" {
  command = plan

  variables {
    tumbling_window_in_seconds = 901
  }

  expect_failures = [var.tumbling_window_in_seconds]
}

# Cross-variable rules (lifecycle preconditions).

run "requires_on_failure_destination_without_opt_out" {
  command = plan

  variables {
    on_failure_destination_arn = null
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
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

# The function's own precondition (the public Powertools layer exists only in
# the aws partition) fails inside module.function, which expect_failures
# cannot name: it is tested in modules/lambda-function/tests/validation.tftest.hcl.
