# One expect_failures run per validation rule (both sides of the key ranges)
# and per lifecycle precondition. Each run changes one thing from a valid
# configuration, so the expected failure is the only one.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/orders-processor"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/orders-processor"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn = "arn:aws:lambda:eu-west-1:111122223333:function:orders-processor"
    }
  }
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

run "rejects_unknown_application_log_level" {
  command = plan

  variables {
    application_log_level = "VERBOSE"
  }

  expect_failures = [var.application_log_level]
}

run "rejects_two_architectures" {
  command = plan

  variables {
    architectures = ["arm64", "x86_64"]
  }

  expect_failures = [var.architectures]
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

run "rejects_malformed_code_signing_config_arn" {
  command = plan

  variables {
    code_signing_config_arn = "csc-0123456789abcdef0"
  }

  expect_failures = [var.code_signing_config_arn]
}

run "rejects_description_over_256_characters" {
  command = plan

  variables {
    description = format("%0257d", 0)
  }

  expect_failures = [var.description]
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

run "rejects_invalid_environment_variable_name" {
  command = plan

  variables {
    environment_variables = { "1_TABLE" = "orders" }
  }

  expect_failures = [var.environment_variables]
}

run "rejects_unsupported_event_source" {
  command = plan

  variables {
    event_source_arn = "arn:aws:sqs:eu-west-1:111122223333:orders"
  }

  expect_failures = [var.event_source_arn]
}

run "rejects_non_zip_package" {
  command = plan

  variables {
    filename = "../../build/stream_processor.tar.gz"
  }

  expect_failures = [var.filename]
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

run "rejects_handler_without_module" {
  command = plan

  variables {
    handler = "lambda_handler"
  }

  expect_failures = [var.handler]
}

run "rejects_key_alias_as_kms_key_arn" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/orders"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_key_alias_in_kms_key_arns" {
  command = plan

  variables {
    kms_key_arns = ["alias/orders"]
  }

  expect_failures = [var.kms_key_arns]
}

run "rejects_deletion_window_below_7_days" {
  command = plan

  variables {
    kms_key_deletion_window_in_days = 6
  }

  expect_failures = [var.kms_key_deletion_window_in_days]
}

run "rejects_more_than_5_layers" {
  command = plan

  variables {
    layers = ["powertools", "arn:aws:lambda:eu-west-1:111122223333:layer:a:1", "arn:aws:lambda:eu-west-1:111122223333:layer:b:1", "arn:aws:lambda:eu-west-1:111122223333:layer:c:1", "arn:aws:lambda:eu-west-1:111122223333:layer:d:1", "arn:aws:lambda:eu-west-1:111122223333:layer:e:1"]
  }

  expect_failures = [var.layers]
}

run "rejects_unversioned_layer_arn" {
  command = plan

  variables {
    layers = ["arn:aws:lambda:eu-west-1:111122223333:layer:shared"]
  }

  expect_failures = [var.layers]
}

run "rejects_log_retention_not_allowed_by_cloudwatch" {
  command = plan

  variables {
    log_retention_in_days = 366
  }

  expect_failures = [var.log_retention_in_days]
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

run "rejects_memory_below_128" {
  command = plan

  variables {
    memory_size = 127
  }

  expect_failures = [var.memory_size]
}

run "rejects_memory_above_10240" {
  command = plan

  variables {
    memory_size = 10241
  }

  expect_failures = [var.memory_size]
}

run "rejects_invalid_function_name" {
  command = plan

  variables {
    name = "orders processor"
  }

  expect_failures = [var.name]
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

run "rejects_powertools_layer_version_zero" {
  command = plan

  variables {
    powertools_layer_version = 0
  }

  expect_failures = [var.powertools_layer_version]
}

run "rejects_zero_reserved_concurrency" {
  command = plan

  variables {
    reserved_concurrent_executions = 0
  }

  expect_failures = [var.reserved_concurrent_executions]
}

run "rejects_role_name_over_64_characters" {
  command = plan

  variables {
    role_name = format("%065d", 0)
  }

  expect_failures = [var.role_name]
}

run "rejects_malformed_permissions_boundary" {
  command = plan

  variables {
    role_permissions_boundary_arn = "workload-boundary"
  }

  expect_failures = [var.role_permissions_boundary_arn]
}

run "rejects_unsupported_runtime" {
  command = plan

  variables {
    runtime = "python3.11"
  }

  expect_failures = [var.runtime]
}

run "rejects_malformed_source_code_hash" {
  command = plan

  variables {
    source_code_hash = "0123456789abcdef"
  }

  expect_failures = [var.source_code_hash]
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

run "rejects_unknown_system_log_level" {
  command = plan

  variables {
    system_log_level = "ERROR"
  }

  expect_failures = [var.system_log_level]
}

run "rejects_timeout_above_900" {
  command = plan

  variables {
    timeout = 901
  }

  expect_failures = [var.timeout]
}

run "rejects_timeout_zero" {
  command = plan

  variables {
    timeout = 0
  }

  expect_failures = [var.timeout]
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

run "rejects_public_powertools_layer_outside_aws_partition" {
  command = plan

  variables {
    layers = ["powertools"]
  }

  override_data {
    target = data.aws_partition.current
    values = {
      partition  = "aws-cn"
      dns_suffix = "amazonaws.com.cn"
    }
  }

  expect_failures = [aws_lambda_function.this]
}
