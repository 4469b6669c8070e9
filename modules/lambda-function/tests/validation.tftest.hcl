# Every validation rule and precondition is proven to reject a bad value (both
# sides of the bounded ranges). Variable checks are independent, so one run
# sets several variables to bad values -- each labelled with the rule it
# proves -- and lists each in expect_failures: the run fails when any rule
# stops rejecting its value ("Missing expected failure"), or when anything
# else fails. A variable, and an expected failure, appear once per run, hence
# several runs. Runs that check more than an expected failure stay on their own.
#
# stream-consumer and hydrating-dlq pass their function variables through
# unvalidated: these rules, and these runs, are the only ones for them.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name     = "orders-processor"
  handler  = "stream_processor.app.lambda_handler"
  filename = "../../build/stream_processor.zip"
  layers   = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]
  # Given, so the package need not exist for these tests.
  source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
}

run "rejects_invalid_values_1" {
  command = plan

  variables {
    # rejects_unknown_application_log_level
    application_log_level = "VERBOSE"

    # rejects_two_architectures
    architectures = ["arm64", "x86_64"]

    # rejects_malformed_code_signing_config_arn
    code_signing_config_arn = "csc-0123456789abcdef0"

    # rejects_description_over_256_characters
    description = format("%0257d", 0)

    # rejects_invalid_environment_variable_name
    environment_variables = { "1_TABLE" = "orders" }

    # rejects_non_zip_package
    filename = "../../build/stream_processor.tar.gz"

    # rejects_handler_without_module
    handler = "lambda_handler"

    # rejects_key_alias_as_kms_key_arn
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/orders"

    # rejects_deletion_window_below_7_days
    kms_key_deletion_window_in_days = 6

    # rejects_more_than_5_layers
    layers = ["arn:aws:lambda:eu-west-1:111122223333:layer:z:1", "arn:aws:lambda:eu-west-1:111122223333:layer:a:1", "arn:aws:lambda:eu-west-1:111122223333:layer:b:1", "arn:aws:lambda:eu-west-1:111122223333:layer:c:1", "arn:aws:lambda:eu-west-1:111122223333:layer:d:1", "arn:aws:lambda:eu-west-1:111122223333:layer:e:1"]

    # rejects_log_retention_not_allowed_by_cloudwatch
    log_retention_in_days = 366

    # rejects_memory_below_128
    memory_size = 127

    # rejects_invalid_function_name
    name = "orders processor"

    # rejects_policy_without_statement
    policy_json = "{\"Version\":\"2012-10-17\"}"

    # rejects_policy_name_own_resources
    policy_name = "own-resources"

    # rejects_zero_reserved_concurrency
    reserved_concurrent_executions = 0

    # rejects_role_description_over_1000_characters
    role_description = format("%01001d", 0)

    # rejects_role_name_over_64_characters
    role_name = format("%065d", 0)

    # rejects_malformed_permissions_boundary
    role_permissions_boundary_arn = "workload-boundary"

    # rejects_unsupported_runtime
    runtime = "python3.11"

    # rejects_malformed_source_code_hash
    source_code_hash = "0123456789abcdef"

    # rejects_unknown_system_log_level
    system_log_level = "ERROR"

    # rejects_timeout_above_900
    timeout = 901
  }

  expect_failures = [
    var.application_log_level,
    var.architectures,
    var.code_signing_config_arn,
    var.description,
    var.environment_variables,
    var.filename,
    var.handler,
    var.kms_key_arn,
    var.kms_key_deletion_window_in_days,
    var.layers,
    var.log_retention_in_days,
    var.memory_size,
    var.name,
    var.policy_json,
    var.policy_name,
    var.reserved_concurrent_executions,
    var.role_description,
    var.role_name,
    var.role_permissions_boundary_arn,
    var.runtime,
    var.source_code_hash,
    var.system_log_level,
    var.timeout,
  ]
}

run "rejects_invalid_values_2" {
  command = plan

  variables {
    # rejects_deletion_window_above_30_days
    kms_key_deletion_window_in_days = 31

    # rejects_unversioned_layer_arn
    layers = ["arn:aws:lambda:eu-west-1:111122223333:layer:shared"]

    # rejects_memory_above_10240
    memory_size = 10241

    # rejects_fractional_reserved_concurrency
    reserved_concurrent_executions = 1.5

    # rejects_timeout_zero
    timeout = 0
  }

  expect_failures = [
    var.kms_key_deletion_window_in_days,
    var.layers,
    var.memory_size,
    var.reserved_concurrent_executions,
    var.timeout,
  ]
}

# Lifecycle preconditions.
run "requires_kms_key_arn_without_own_key" {
  command = plan

  variables {
    create_kms_key = false
  }

  expect_failures = [aws_lambda_function.this]
}

run "rejects_the_retired_powertools_keyword" {
  command = plan

  variables {
    # The public Powertools layer is no longer resolved: it did not carry the tested versions.
    layers = ["powertools"]
  }

  expect_failures = [var.layers]
}
