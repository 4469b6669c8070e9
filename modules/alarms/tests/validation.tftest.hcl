# One failing plan per validation rule and precondition, so each rule is
# proven to reject bad input (and a broken rule fails the suite).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name_prefix = "orders"
}

# name_prefix

run "name_prefix_with_dot" {
  command = plan
  variables {
    name_prefix = "orders.prod"
  }
  expect_failures = [var.name_prefix]
}

# Notification endpoints

run "alarm_email_malformed" {
  command = plan
  variables {
    alarm_emails = ["oncall@example.com", "oncall-at-example.com"]
  }
  expect_failures = [var.alarm_emails]
}

run "subscription_protocol_http" {
  command = plan
  variables {
    subscriptions = [{ protocol = "http", endpoint = "http://alerts.example.com/hook" }]
  }
  expect_failures = [var.subscriptions]
}

run "subscription_endpoint_mismatch" {
  command = plan
  variables {
    subscriptions = [{ protocol = "sqs", endpoint = "https://sqs.eu-west-1.amazonaws.com/111122223333/alarm-archive" }]
  }
  expect_failures = [var.subscriptions]
}

# Subjects

run "stream_name_invalid" {
  command = plan
  variables {
    stream_name = "orders stream"
  }
  expect_failures = [var.stream_name]
}

run "consumer_function_arn_rejected" {
  command = plan
  variables {
    consumer_function_names = ["arn:aws:lambda:eu-west-1:111122223333:function:orders-processor"]
  }
  expect_failures = [var.consumer_function_names]
}

run "consumer_function_duplicates" {
  command = plan
  variables {
    consumer_function_names = ["orders-processor", "orders-processor"]
  }
  expect_failures = [var.consumer_function_names]
}

run "efo_consumer_name_invalid" {
  command = plan
  variables {
    stream_name        = "orders"
    efo_consumer_names = ["stream processor"]
  }
  expect_failures = [var.efo_consumer_names]
}

run "efo_consumer_duplicates" {
  command = plan
  variables {
    stream_name        = "orders"
    efo_consumer_names = ["stream-processor", "stream-processor"]
  }
  expect_failures = [var.efo_consumer_names]
}

run "efo_consumers_without_stream" {
  command = plan
  variables {
    efo_consumer_names = ["stream-processor"]
  }
  expect_failures = [aws_sns_topic.this]
}

run "hydrate_function_name_invalid" {
  command = plan
  variables {
    hydrate_function_name = "orders:hydrate"
  }
  expect_failures = [var.hydrate_function_name]
}

run "dlq_url_rejected" {
  command = plan
  variables {
    dlq_name = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders-dlq"
  }
  expect_failures = [var.dlq_name]
}

run "min_incoming_records_zero" {
  command = plan
  variables {
    stream_name                     = "orders"
    min_incoming_records_per_period = 0
  }
  expect_failures = [var.min_incoming_records_per_period]
}

run "min_incoming_records_without_stream" {
  command = plan
  variables {
    min_incoming_records_per_period = 100
  }
  expect_failures = [aws_sns_topic.this]
}

# Powertools metrics

run "metrics_namespace_reserved" {
  command = plan
  variables {
    metrics_namespace = "AWS/Lambda"
  }
  expect_failures = [var.metrics_namespace]
}

run "consumer_service_name_blank" {
  command = plan
  variables {
    consumer_service_name = "  "
  }
  expect_failures = [var.consumer_service_name]
}

run "hydrate_service_name_blank" {
  command = plan
  variables {
    hydrate_service_name = ""
  }
  expect_failures = [var.hydrate_service_name]
}

run "consumer_dlq_metric_name_empty" {
  command = plan
  variables {
    consumer_dlq_metric_name = ""
  }
  expect_failures = [var.consumer_dlq_metric_name]
}

run "hydrate_payload_unavailable_metric_name_empty" {
  command = plan
  variables {
    hydrate_payload_unavailable_metric_name = ""
  }
  expect_failures = [var.hydrate_payload_unavailable_metric_name]
}

# alarm_overrides

run "override_unknown_alarm_id" {
  command = plan
  variables {
    alarm_overrides = {
      lambda-errors = { threshold = 1 }
    }
  }
  expect_failures = [var.alarm_overrides]
}

run "override_period_sub_minute" {
  command = plan
  variables {
    alarm_overrides = {
      consumer-errors = { period = 30 }
    }
  }
  expect_failures = [var.alarm_overrides]
}

run "override_evaluation_periods_zero" {
  command = plan
  variables {
    alarm_overrides = {
      consumer-errors = { evaluation_periods = 0 }
    }
  }
  expect_failures = [var.alarm_overrides]
}

run "override_datapoints_fractional" {
  command = plan
  variables {
    alarm_overrides = {
      consumer-errors = { datapoints_to_alarm = 1.5 }
    }
  }
  expect_failures = [var.alarm_overrides]
}

run "override_datapoints_above_evaluation_periods" {
  command = plan
  variables {
    alarm_overrides = {
      consumer-errors = { evaluation_periods = 3, datapoints_to_alarm = 4 }
    }
  }
  expect_failures = [var.alarm_overrides]
}

run "override_window_longer_than_a_day" {
  command = plan
  variables {
    alarm_overrides = {
      consumer-errors = { period = 3000, evaluation_periods = 30 }
    }
  }
  expect_failures = [var.alarm_overrides]
}

run "override_threshold_negative" {
  command = plan
  variables {
    alarm_overrides = {
      dlq-oldest-message-age = { threshold = -1 }
    }
  }
  expect_failures = [var.alarm_overrides]
}

run "override_threshold_of_throughput_floor" {
  command = plan
  variables {
    alarm_overrides = {
      stream-incoming-records-low = { threshold = 10 }
    }
  }
  expect_failures = [var.alarm_overrides]
}

run "override_datapoints_above_default_evaluation_periods" {
  command = plan
  variables {
    alarm_overrides = {
      dlq-messages-visible = { datapoints_to_alarm = 2 }
    }
  }
  expect_failures = [aws_sns_topic.this]
}

run "override_evaluation_periods_window_too_long_with_default_period" {
  command = plan
  variables {
    alarm_overrides = {
      consumer-errors = { evaluation_periods = 1500 }
    }
  }
  expect_failures = [aws_sns_topic.this]
}

# KMS

run "kms_key_arn_alias_rejected" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/aws/sns"
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
