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
  name_prefix = "orders"
}

# name_prefix

run "rejects_invalid_values_1" {
  command = plan

  variables {
    # name_prefix_with_dot
    name_prefix = "orders.prod"

    # Notification endpoints
    # alarm_email_malformed
    alarm_emails = ["oncall@example.com", "oncall-at-example.com"]

    # subscription_protocol_http
    subscriptions = [{ protocol = "http", endpoint = "http://alerts.example.com/hook" }]

    # Subjects
    # stream_name_invalid
    stream_name = "orders stream"

    # consumer_function_arn_rejected
    consumer_function_names = ["arn:aws:lambda:eu-west-1:111122223333:function:orders-processor"]

    # hydrate_function_name_invalid
    hydrate_function_name = "orders:hydrate"

    # dlq_url_rejected
    dlq_name = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders-dlq"

    # Powertools metrics
    # metrics_namespace_reserved
    metrics_namespace = "AWS/Lambda"

    # consumer_service_name_blank
    consumer_service_name = "  "

    # hydrate_service_name_blank
    hydrate_service_name = ""

    # consumer_dlq_metric_name_empty
    consumer_dlq_metric_name = ""

    # hydrate_payload_unavailable_metric_name_empty
    hydrate_payload_unavailable_metric_name = ""

    # alarm_overrides
    # override_unknown_alarm_id
    alarm_overrides = {
      lambda-errors = { threshold = 1 }
    }

    # KMS
    # kms_key_arn_alias_rejected
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:alias/aws/sns"

    # kms_key_deletion_window_below_7
    kms_key_deletion_window_in_days = 6
  }

  expect_failures = [
    var.name_prefix,
    var.alarm_emails,
    var.subscriptions,
    var.stream_name,
    var.consumer_function_names,
    var.hydrate_function_name,
    var.dlq_name,
    var.metrics_namespace,
    var.consumer_service_name,
    var.hydrate_service_name,
    var.consumer_dlq_metric_name,
    var.hydrate_payload_unavailable_metric_name,
    var.alarm_overrides,
    var.kms_key_arn,
    var.kms_key_deletion_window_in_days,
  ]
}

run "rejects_invalid_values_2" {
  command = plan

  variables {
    # subscription_endpoint_mismatch
    subscriptions = [{ protocol = "sqs", endpoint = "https://sqs.eu-west-1.amazonaws.com/111122223333/alarm-archive" }]

    # consumer_function_duplicates
    consumer_function_names = ["orders-processor", "orders-processor"]

    # consumer_service_names_duplicates
    consumer_service_names = ["stream_processor", "stream_processor"]

    # efo_consumer_name_invalid
    stream_name        = "orders"
    efo_consumer_names = ["stream processor"]

    # override_period_sub_minute
    alarm_overrides = {
      consumer-errors = { period = 30 }
    }
  }

  expect_failures = [
    var.subscriptions,
    var.consumer_function_names,
    var.consumer_service_names,
    var.efo_consumer_names,
    var.alarm_overrides,
  ]
}

run "rejects_invalid_values_3" {
  command = plan

  variables {
    # efo_consumer_duplicates
    stream_name        = "orders"
    efo_consumer_names = ["stream-processor", "stream-processor"]

    # override_evaluation_periods_zero
    alarm_overrides = {
      consumer-errors = { evaluation_periods = 0 }
    }
  }

  expect_failures = [
    var.efo_consumer_names,
    var.alarm_overrides,
  ]
}

run "rejects_invalid_values_4" {
  command = plan

  variables {
    # min_incoming_records_zero
    stream_name                     = "orders"
    min_incoming_records_per_period = 0

    # override_datapoints_fractional
    alarm_overrides = {
      consumer-errors = { datapoints_to_alarm = 1.5 }
    }
  }

  expect_failures = [
    var.min_incoming_records_per_period,
    var.alarm_overrides,
  ]
}

run "rejects_invalid_values_5" {
  command = plan

  variables {
    # override_datapoints_above_evaluation_periods
    alarm_overrides = {
      consumer-errors = { evaluation_periods = 3, datapoints_to_alarm = 4 }
    }
  }

  expect_failures = [
    var.alarm_overrides,
  ]
}

run "rejects_invalid_values_6" {
  command = plan

  variables {
    # override_window_longer_than_a_day
    alarm_overrides = {
      consumer-errors = { period = 3000, evaluation_periods = 30 }
    }
  }

  expect_failures = [
    var.alarm_overrides,
  ]
}

run "rejects_invalid_values_7" {
  command = plan

  variables {
    # override_threshold_negative
    alarm_overrides = {
      dlq-oldest-message-age = { threshold = -1 }
    }
  }

  expect_failures = [
    var.alarm_overrides,
  ]
}

run "rejects_invalid_values_8" {
  command = plan

  variables {
    # override_threshold_of_throughput_floor
    alarm_overrides = {
      stream-incoming-records-low = { threshold = 10 }
    }
  }

  expect_failures = [
    var.alarm_overrides,
  ]
}

run "efo_consumers_without_stream" {
  command = plan
  variables {
    efo_consumer_names = ["stream-processor"]
  }
  expect_failures = [aws_sns_topic.this]
}

run "min_incoming_records_without_stream" {
  command = plan
  variables {
    min_incoming_records_per_period = 100
  }
  expect_failures = [aws_sns_topic.this]
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

run "rejects_consumer_service_name_with_a_space" {
  command = plan

  variables {
    consumer_service_names = ["stream processor"]
  }

  expect_failures = [var.consumer_service_names]
}
