# One expect_failures run per validation rule (both sides of the bounded
# ranges). Each run changes one thing from a valid configuration, so the
# expected failure is the only one.
#
# The hydrate function's variables (handler, filename, runtime, layers, memory,
# timeout, logs, role...) are passed through to module.hydrate, which
# validates them; their runs live in
# modules/lambda-function/tests/validation.tftest.hcl.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name               = "orders"
  filename           = "../../build/hydrate.zip"
  source_code_hash   = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
  source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]
}

run "rejects_access_log_bucket_arn" {
  command = plan

  variables {
    access_log_bucket = "arn:aws:s3:::org-s3-access-logs"
  }

  expect_failures = [var.access_log_bucket]
}

run "rejects_user_arn_as_consumer_role" {
  command = plan

  variables {
    consumer_role_arns = ["arn:aws:iam::111122223333:user/deployer"]
  }

  expect_failures = [var.consumer_role_arns]
}

run "rejects_negative_visibility_timeout" {
  command = plan

  variables {
    dlq_visibility_timeout_seconds = -1
  }

  expect_failures = [var.dlq_visibility_timeout_seconds]
}

run "rejects_visibility_timeout_above_12_hours" {
  command = plan

  variables {
    dlq_visibility_timeout_seconds = 43201
  }

  expect_failures = [var.dlq_visibility_timeout_seconds]
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

run "rejects_event_age_below_60" {
  command = plan

  variables {
    maximum_event_age_in_seconds = 59
  }

  expect_failures = [var.maximum_event_age_in_seconds]
}

run "rejects_event_age_above_6_hours" {
  command = plan

  variables {
    maximum_event_age_in_seconds = 21601
  }

  expect_failures = [var.maximum_event_age_in_seconds]
}

run "rejects_negative_retries" {
  command = plan

  variables {
    maximum_retry_attempts = -1
  }

  expect_failures = [var.maximum_retry_attempts]
}

run "rejects_retries_above_2" {
  command = plan

  variables {
    maximum_retry_attempts = 3
  }

  expect_failures = [var.maximum_retry_attempts]
}

run "rejects_uppercase_name" {
  command = plan

  variables {
    name = "Orders"
  }

  expect_failures = [var.name]
}

run "rejects_name_over_40_characters" {
  command = plan

  variables {
    name = "a2345678901234567890123456789012345678901"
  }

  expect_failures = [var.name]
}

run "rejects_reserved_metrics_namespace" {
  command = plan

  variables {
    powertools_metrics_namespace = "AWS/Lambda"
  }

  expect_failures = [var.powertools_metrics_namespace]
}

run "rejects_service_name_with_spaces" {
  command = plan

  variables {
    powertools_service_name = "orders hydrate"
  }

  expect_failures = [var.powertools_service_name]
}

run "rejects_bucket_arn_as_bucket_name" {
  command = plan

  variables {
    s3_bucket_name = "arn:aws:s3:::orders-failures"
  }

  expect_failures = [var.s3_bucket_name]
}

run "rejects_expiration_zero_days" {
  command = plan

  variables {
    s3_expiration_days = 0
  }

  expect_failures = [var.s3_expiration_days]
}

run "rejects_expiration_above_3650_days" {
  command = plan

  variables {
    s3_expiration_days = 3651
  }

  expect_failures = [var.s3_expiration_days]
}

run "rejects_key_alias_in_source_kms_key_arns" {
  command = plan

  variables {
    source_kms_key_arns = ["alias/orders"]
  }

  expect_failures = [var.source_kms_key_arns]
}

run "rejects_no_source_stream" {
  command = plan

  variables {
    source_stream_arns = []
  }

  expect_failures = [var.source_stream_arns]
}

run "rejects_efo_consumer_as_source_stream" {
  command = plan

  variables {
    source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders/consumer/processor:1700000000"]
  }

  expect_failures = [var.source_stream_arns]
}
