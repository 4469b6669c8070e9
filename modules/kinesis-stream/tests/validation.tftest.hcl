# One failing plan per validation rule and precondition, so each rule is
# proven to reject bad input (and a broken rule fails the suite).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name = "test-stream"
}

# name

run "name_empty" {
  command = plan
  variables {
    name = ""
  }
  expect_failures = [var.name]
}

run "name_invalid_characters" {
  command = plan
  variables {
    name = "orders stream!"
  }
  expect_failures = [var.name]
}

run "name_too_long" {
  command = plan
  variables {
    name = join("", [for i in range(129) : "a"])
  }
  expect_failures = [var.name]
}

# stream_mode and shard_count

run "stream_mode_unknown" {
  command = plan
  variables {
    stream_mode = "SERVERLESS"
  }
  expect_failures = [var.stream_mode]
}

run "shard_count_zero" {
  command = plan
  variables {
    stream_mode = "PROVISIONED"
    shard_count = 0
  }
  expect_failures = [var.shard_count]
}

run "shard_count_fractional" {
  command = plan
  variables {
    stream_mode = "PROVISIONED"
    shard_count = 1.5
  }
  expect_failures = [var.shard_count]
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

# retention_period

run "retention_period_below_24" {
  command = plan
  variables {
    retention_period = 10
  }
  expect_failures = [var.retention_period]
}

run "retention_period_above_8760" {
  command = plan
  variables {
    retention_period = 9000
  }
  expect_failures = [var.retention_period]
}

run "retention_period_fractional" {
  command = plan
  variables {
    retention_period = 24.5
  }
  expect_failures = [var.retention_period]
}

# shard_level_metrics

run "shard_level_metric_unknown" {
  command = plan
  variables {
    shard_level_metrics = ["IncomingBytes", "IncomingBites"]
  }
  expect_failures = [var.shard_level_metrics]
}

# KMS

run "kms_key_arn_alias_rejected" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/aws/kinesis"
  }
  expect_failures = [var.kms_key_arn]
}

run "kms_key_deletion_window_below_7" {
  command = plan
  variables {
    kms_key_deletion_window_in_days = 6
  }
  expect_failures = [var.kms_key_deletion_window_in_days]
}

run "kms_key_deletion_window_above_30" {
  command = plan
  variables {
    kms_key_deletion_window_in_days = 31
  }
  expect_failures = [var.kms_key_deletion_window_in_days]
}

# Principals and consumers

run "producer_principal_wildcard" {
  command = plan
  variables {
    producer_principal_arns = ["*"]
  }
  expect_failures = [var.producer_principal_arns]
}

run "consumer_principal_malformed" {
  command = plan
  variables {
    consumer_principal_arns = ["arn:aws:iam::12345:role/reader"]
  }
  expect_failures = [var.consumer_principal_arns]
}

run "consumers_more_than_20" {
  command = plan
  variables {
    consumers = { for i in range(21) : "consumer-${i}" => {} }
  }
  expect_failures = [var.consumers]
}

run "consumer_name_invalid" {
  command = plan
  variables {
    consumers = {
      "bad consumer" = {}
    }
  }
  expect_failures = [var.consumers]
}

run "consumer_principal_in_consumers_malformed" {
  command = plan
  variables {
    consumers = {
      analytics = {
        principal_arns = ["arn:aws:sts::111122223333:assumed-role/reader/session"]
      }
    }
  }
  expect_failures = [var.consumers]
}
