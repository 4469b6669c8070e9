# One expect_failures run per validation rule (both sides of the key ranges)
# and per lifecycle precondition. Each run changes one thing from a valid
# configuration, so the expected failure is the only one. stream-consumer and
# hydrating-dlq pass their function variables through unvalidated: these
# rules, and these runs, are the only ones for them.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name     = "orders-processor"
  handler  = "stream_processor.app.lambda_handler"
  filename = "../../build/stream_processor.zip"
  # Given, so the package need not exist for these tests.
  source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
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

run "rejects_invalid_environment_variable_name" {
  command = plan

  variables {
    environment_variables = { "1_TABLE" = "orders" }
  }

  expect_failures = [var.environment_variables]
}

run "rejects_non_zip_package" {
  command = plan

  variables {
    filename = "../../build/stream_processor.tar.gz"
  }

  expect_failures = [var.filename]
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

run "rejects_deletion_window_below_7_days" {
  command = plan

  variables {
    kms_key_deletion_window_in_days = 6
  }

  expect_failures = [var.kms_key_deletion_window_in_days]
}

run "rejects_deletion_window_above_30_days" {
  command = plan

  variables {
    kms_key_deletion_window_in_days = 31
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

run "rejects_policy_without_statement" {
  command = plan

  variables {
    policy_json = "{\"Version\":\"2012-10-17\"}"
  }

  expect_failures = [var.policy_json]
}

run "rejects_policy_name_own_resources" {
  command = plan

  variables {
    policy_name = "own-resources"
  }

  expect_failures = [var.policy_name]
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

run "rejects_fractional_reserved_concurrency" {
  command = plan

  variables {
    reserved_concurrent_executions = 1.5
  }

  expect_failures = [var.reserved_concurrent_executions]
}

run "rejects_role_description_over_1000_characters" {
  command = plan

  variables {
    role_description = format("%01001d", 0)
  }

  expect_failures = [var.role_description]
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

# Lifecycle preconditions.

run "requires_kms_key_arn_without_own_key" {
  command = plan

  variables {
    create_kms_key = false
  }

  expect_failures = [aws_lambda_function.this]
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
