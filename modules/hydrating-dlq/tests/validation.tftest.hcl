# Every validation rule and precondition is proven to reject a bad value (both
# sides of the bounded ranges). Variable checks are independent, so one run
# sets several variables to bad values -- each labelled with the rule it
# proves -- and lists each in expect_failures: the run fails when any rule
# stops rejecting its value ("Missing expected failure"), or when anything
# else fails. A variable, and an expected failure, appear once per run, hence
# several runs. Runs that check more than an expected failure stay on their own.
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
  layers             = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]
  source_code_hash   = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
  source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]
}

run "rejects_invalid_values_1" {
  command = plan

  variables {
    # rejects_access_log_bucket_arn
    access_logging = { enabled = true, target_bucket = "arn:aws:s3:::org-s3-access-logs" }

    # rejects_user_arn_as_consumer_role
    consumer_role_arns = ["arn:aws:iam::111122223333:user/deployer"]

    # rejects_negative_visibility_timeout
    dlq_visibility_timeout_seconds = -1

    # rejects_key_alias_as_kms_key_arn
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/orders"

    # rejects_deletion_window_below_7_days
    kms_key_deletion_window_in_days = 6

    # rejects_event_age_below_60
    maximum_event_age_in_seconds = 59

    # rejects_negative_retries
    maximum_retry_attempts = -1

    # rejects_uppercase_name
    name = "Orders"

    # rejects_reserved_metrics_namespace
    powertools_metrics_namespace = "AWS/Lambda"

    # rejects_service_name_with_spaces
    powertools_service_name = "orders hydrate"

    # rejects_bucket_arn_as_bucket_name
    s3_bucket_name = "arn:aws:s3:::orders-failures"

    # rejects_expiration_under_the_dlq_retention_of_14_days
    s3_expiration_days = 13

    # rejects_key_alias_in_source_kms_key_arns
    source_kms_key_arns = ["alias/orders"]

    # rejects_no_source_stream
    source_stream_arns = []
  }

  expect_failures = [
    var.access_logging,
    var.consumer_role_arns,
    var.dlq_visibility_timeout_seconds,
    var.kms_key_arn,
    var.kms_key_deletion_window_in_days,
    var.maximum_event_age_in_seconds,
    var.maximum_retry_attempts,
    var.name,
    var.powertools_metrics_namespace,
    var.powertools_service_name,
    var.s3_bucket_name,
    var.s3_expiration_days,
    var.source_kms_key_arns,
    var.source_stream_arns,
  ]
}

run "rejects_invalid_values_2" {
  command = plan

  variables {
    # rejects_visibility_timeout_above_12_hours
    dlq_visibility_timeout_seconds = 43201

    # rejects_deletion_window_above_30_days
    kms_key_deletion_window_in_days = 31

    # rejects_event_age_above_6_hours
    maximum_event_age_in_seconds = 21601

    # rejects_retries_above_2
    maximum_retry_attempts = 3

    # rejects_name_over_40_characters
    name = "a2345678901234567890123456789012345678901"

    # rejects_expiration_above_3650_days
    s3_expiration_days = 3651

    # rejects_access_log_expiration_of_zero_days
    access_logging = { enabled = true, expiration_days = 0 }

    # rejects_efo_consumer_as_source_stream
    source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders/consumer/processor:1700000000"]
  }

  expect_failures = [
    var.access_logging,
    var.dlq_visibility_timeout_seconds,
    var.kms_key_deletion_window_in_days,
    var.maximum_event_age_in_seconds,
    var.maximum_retry_attempts,
    var.name,
    var.s3_expiration_days,
    var.source_stream_arns,
  ]
}
