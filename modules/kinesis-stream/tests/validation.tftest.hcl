# Every validation rule and precondition is proven to reject a bad value (both
# sides of the bounded ranges). Variable checks are independent, so one run
# sets several variables to bad values -- each labelled with the rule it
# proves -- and lists each in expect_failures: the run fails when any rule
# stops rejecting its value ("Missing expected failure"), or when anything
# else fails. A variable, and an expected failure, appear once per run, hence
# several runs. Runs that check more than an expected failure stay on their own.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name = "test-stream"
}

# name

run "rejects_invalid_values_1" {
  command = plan

  variables {
    # name_empty
    name = ""

    # stream_mode and shard_count
    # stream_mode_unknown
    stream_mode = "SERVERLESS"

    # retention_period
    # retention_period_below_24
    retention_period = 10

    # shard_level_metrics
    # shard_level_metric_unknown
    shard_level_metrics = ["IncomingBytes", "IncomingBites"]

    # KMS
    # kms_key_arn_alias_rejected
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/aws/kinesis"

    # kms_key_deletion_window_below_7
    kms_key_deletion_window_in_days = 6

    # Principals and consumers
    # producer_principal_wildcard
    producer_principal_arns = ["*"]

    # consumer_principal_malformed
    consumer_principal_arns = ["arn:aws:iam::12345:role/reader"]

    # consumers_more_than_20
    consumers = { for i in range(21) : "consumer-${i}" => {} }
  }

  expect_failures = [
    var.name,
    var.stream_mode,
    var.retention_period,
    var.shard_level_metrics,
    var.kms_key_arn,
    var.kms_key_deletion_window_in_days,
    var.producer_principal_arns,
    var.consumer_principal_arns,
    var.consumers,
  ]
}

run "rejects_invalid_values_2" {
  command = plan

  variables {
    # name_invalid_characters
    name = "orders stream!"

    # shard_count_zero
    stream_mode = "PROVISIONED"
    shard_count = 0

    # retention_period_above_8760
    retention_period = 9000

    # kms_key_deletion_window_above_30
    kms_key_deletion_window_in_days = 31

    # consumer_name_invalid
    consumers = {
      "bad consumer" = {}
    }
  }

  expect_failures = [
    var.name,
    var.shard_count,
    var.retention_period,
    var.kms_key_deletion_window_in_days,
    var.consumers,
  ]
}

run "rejects_invalid_values_3" {
  command = plan

  variables {
    # name_too_long
    name = join("", [for i in range(129) : "a"])

    # shard_count_fractional
    stream_mode = "PROVISIONED"
    shard_count = 1.5

    # retention_period_fractional
    retention_period = 24.5

    # consumer_principal_in_consumers_malformed
    consumers = {
      analytics = {
        principal_arns = ["arn:aws:sts::111122223333:assumed-role/reader/session"]
      }
    }
  }

  expect_failures = [
    var.name,
    var.shard_count,
    var.retention_period,
    var.consumers,
  ]
}

run "provisioned_without_shard_count" {
  command = plan
  variables {
    stream_mode = "PROVISIONED"
  }
  expect_failures = [aws_kinesis_stream.this]
}

run "on_demand_with_shard_count" {
  command = plan
  variables {
    stream_mode = "ON_DEMAND"
    shard_count = 2
  }
  expect_failures = [aws_kinesis_stream.this]
}
