# The alarms that see a record being lost or about to be (issue #15, item 3): on-failure
# destination failures, records the mapping dropped, sustained retries, invocations near the
# timeout, results-table throttling, pointer-only envelopes, and the escalation before the
# stream's and the DLQ's retention -- derived from the retention passed in.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name_prefix             = "orders"
  stream_name             = "orders"
  consumer_function_names = ["orders-processor", "orders-notifier"]
  consumer_service_names  = ["orders-processor"]
  notifier_service_name   = "orders-notifier"
  hydrate_function_name   = "orders-hydrate"
  hydrate_service_name    = "orders-hydrate"
  dlq_name                = "orders-dlq"
  results_table_name      = "orders-results"
  consumer_event_source_mapping_uuids = {
    orders-processor = "a1b2c3d4-5678-90ab-cdef-111111111111"
    orders-notifier  = "a1b2c3d4-5678-90ab-cdef-222222222222"
  }
  function_timeouts = {
    orders-processor = 60
    orders-notifier  = 30
  }
  stream_retention_hours        = 168
  dlq_message_retention_seconds = 1209600
}

run "every_loss_signal_has_an_alarm" {
  command = plan

  # GIVEN every subject of a pipeline with a notifier and 7-day stream, 14-day DLQ retention
  # WHEN it is planned
  # THEN each signal has its alarm on the exact metric, dimension and statistic AWS publishes
  assert {
    condition = alltrue([
      for name in ["orders-processor", "orders-notifier", "orders-hydrate"] :
      aws_cloudwatch_metric_alarm.this["consumer-destination-delivery-failures/${name}"].metric_name == "DestinationDeliveryFailures" &&
      aws_cloudwatch_metric_alarm.this["consumer-destination-delivery-failures/${name}"].namespace == "AWS/Lambda" &&
      aws_cloudwatch_metric_alarm.this["consumer-destination-delivery-failures/${name}"].dimensions == tomap({ FunctionName = name }) &&
      aws_cloudwatch_metric_alarm.this["consumer-destination-delivery-failures/${name}"].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.this["consumer-destination-delivery-failures/${name}"].threshold == 0
    ])
    error_message = "Every consumer, the notifier and hydrate need a DestinationDeliveryFailures alarm (Sum > 0, FunctionName dimension)."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["consumer-dropped-events/orders-processor"].metric_name == "DroppedEventCount" &&
      aws_cloudwatch_metric_alarm.this["consumer-dropped-events/orders-processor"].dimensions == tomap({ EventSourceMappingUUID = "a1b2c3d4-5678-90ab-cdef-111111111111" }) &&
      aws_cloudwatch_metric_alarm.this["consumer-dropped-events/orders-notifier"].dimensions == tomap({ EventSourceMappingUUID = "a1b2c3d4-5678-90ab-cdef-222222222222" }) &&
      aws_cloudwatch_metric_alarm.this["consumer-dropped-events/orders-processor"].statistic == "Sum"
    )
    error_message = "Each mapping's DroppedEventCount must be watched by its UUID."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["consumer-duration-near-timeout/orders-processor"].threshold == 48000 &&
      aws_cloudwatch_metric_alarm.this["consumer-duration-near-timeout/orders-notifier"].threshold == 24000 &&
      aws_cloudwatch_metric_alarm.this["consumer-duration-near-timeout/orders-notifier"].statistic == "Maximum" &&
      strcontains(aws_cloudwatch_metric_alarm.this["consumer-duration-near-timeout/orders-notifier"].alarm_description, "Maximum Duration > 24000 in 2 of 5 periods")
    )
    error_message = "Duration must alarm at 80 % of each function's own timeout, in milliseconds, and say so."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["consumer-batch-item-failures/orders-processor"].metric_name == "BatchItemFailures" &&
      aws_cloudwatch_metric_alarm.this["consumer-batch-item-failures/orders-processor"].namespace == "StreamPipeline/orders" &&
      aws_cloudwatch_metric_alarm.this["consumer-batch-item-failures/orders-notifier"].dimensions == tomap({ service = "orders-notifier" }) &&
      aws_cloudwatch_metric_alarm.this["consumer-batch-item-failures/orders-processor"].datapoints_to_alarm == 3 &&
      aws_cloudwatch_metric_alarm.this["consumer-batch-item-failures/orders-processor"].evaluation_periods == 3
    )
    error_message = "BatchItemFailures must alarm only when sustained (3 of 3 five-minute periods), per service."
  }

  assert {
    condition = (
      keys({ for k, a in aws_cloudwatch_metric_alarm.this : k => a if startswith(k, "dlq-payloads-omitted/") }) == ["dlq-payloads-omitted/orders-hydrate", "dlq-payloads-omitted/orders-notifier", "dlq-payloads-omitted/orders-processor"] &&
      aws_cloudwatch_metric_alarm.this["dlq-payloads-omitted/orders-hydrate"].metric_name == "DlqPayloadsOmitted"
    )
    error_message = "Every service that sends envelopes (consumers, notifier, hydrate) needs a DlqPayloadsOmitted alarm."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["results-table-write-throttled"].dimensions == tomap({ TableName = "orders-results" }) && aws_cloudwatch_metric_alarm.this["results-table-write-throttled"].metric_name == "WriteThrottleEvents"
    error_message = "The results table's write throttling must be watched."
  }

  # THEN the escalation before each deadline comes from the retention values
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["dlq-retention-warning"].threshold == 604800 &&
      aws_cloudwatch_metric_alarm.this["dlq-retention-critical"].threshold == 907200 &&
      aws_cloudwatch_metric_alarm.this["dlq-retention-critical"].metric_name == "ApproximateAgeOfOldestMessage"
    )
    error_message = "The DLQ deadline must escalate at 50 % and 75 % of its 14-day retention."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.backlog["dlq-stream-deadline-warning"].evaluation_periods == 42 &&
      aws_cloudwatch_metric_alarm.backlog["dlq-stream-deadline-warning"].datapoints_to_alarm == 42 &&
      aws_cloudwatch_metric_alarm.backlog["dlq-stream-deadline-critical"].evaluation_periods == 84 &&
      aws_cloudwatch_metric_alarm.backlog["dlq-stream-deadline-critical"].datapoints_to_alarm == 84 &&
      alltrue([for q in aws_cloudwatch_metric_alarm.backlog["dlq-stream-deadline-critical"].metric_query : q.metric[0].period == 3600 if length(q.metric) > 0])
    )
    error_message = "The stream deadline must escalate after 25 % and 50 % of a 168-hour retention, in consecutive hours."
  }

  # THEN no receive can hide a message from the stream-deadline alarms: they count messages
  # visible and in flight, never ApproximateAgeOfOldestMessage
  assert {
    condition = alltrue([
      for key in ["dlq-stream-deadline-warning", "dlq-stream-deadline-critical"] :
      sort([for q in aws_cloudwatch_metric_alarm.backlog[key].metric_query : q.metric[0].metric_name if length(q.metric) > 0]) == tolist(["ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesVisible"])
    ])
    error_message = "The stream-deadline alarms must watch visible and in-flight messages."
  }

  assert {
    condition = alltrue([
      for key in ["dlq-stream-deadline-warning", "dlq-stream-deadline-critical"] :
      alltrue([for q in aws_cloudwatch_metric_alarm.backlog[key].metric_query : q.metric[0].dimensions == tomap({ QueueName = "orders-dlq" }) if length(q.metric) > 0])
    ])
    error_message = "The stream-deadline alarms must watch the DLQ."
  }

  assert {
    condition = alltrue([
      for key in ["dlq-stream-deadline-warning", "dlq-stream-deadline-critical"] :
      [for q in aws_cloudwatch_metric_alarm.backlog[key].metric_query : q.expression if q.return_data == true] == ["FILL(visible, REPEAT) + FILL(in_flight, REPEAT)"]
    ])
    error_message = "The stream-deadline alarms must sum visible and in-flight messages of the DLQ."
  }

  assert {
    condition     = alltrue([for k, a in merge(aws_cloudwatch_metric_alarm.this, aws_cloudwatch_metric_alarm.backlog) : endswith(a.alarm_description, "See docs/runbook.md#${split("/", k)[0]}") && length(a.alarm_description) <= 1024])
    error_message = "Every description must end with its runbook anchor and fit CloudWatch's 1024 characters."
  }

  assert {
    condition     = output.alarm_names["dlq-stream-deadline-critical"] == "orders-dlq-stream-deadline-critical" && output.alarm_names["consumer-dropped-events/orders-notifier"] == "orders-consumer-dropped-events-orders-notifier"
    error_message = "The outputs must list the metric-math alarms with the others."
  }
}

run "long_streams_are_capped_at_seven_days" {
  command = plan

  # GIVEN a year-long stream retention and custom fractions
  variables {
    stream_retention_hours   = 8760
    deadline_fractions       = { stream_warning = 0.1, stream_critical = 0.2, dlq_warning = 0.25, dlq_critical = 0.5 }
    duration_timeout_percent = 90
  }

  # WHEN it is planned
  # THEN the stream-deadline windows stop at CloudWatch's 7-day limit, the DLQ ones follow the fractions
  assert {
    condition     = aws_cloudwatch_metric_alarm.backlog["dlq-stream-deadline-warning"].evaluation_periods == 168 && aws_cloudwatch_metric_alarm.backlog["dlq-stream-deadline-critical"].evaluation_periods == 168
    error_message = "Hourly windows longer than 7 days cannot be evaluated: they must be capped at 168."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["dlq-retention-warning"].threshold == 302400 && aws_cloudwatch_metric_alarm.this["dlq-retention-critical"].threshold == 604800
    error_message = "The DLQ thresholds must follow deadline_fractions."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["consumer-duration-near-timeout/orders-processor"].threshold == 54000
    error_message = "The duration threshold must follow duration_timeout_percent."
  }
}

run "no_retention_no_deadline_alarms" {
  command = plan

  # GIVEN no retention values and no mapping UUIDs or timeouts
  variables {
    stream_retention_hours              = null
    dlq_message_retention_seconds       = null
    consumer_event_source_mapping_uuids = {}
    function_timeouts                   = {}
    results_table_name                  = null
  }

  # WHEN it is planned
  # THEN the alarms that need them are not created (and nothing guesses a deadline)
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.backlog) == 0 && length([for k in keys(aws_cloudwatch_metric_alarm.this) : k if startswith(k, "dlq-retention-") || startswith(k, "consumer-dropped-events") || startswith(k, "consumer-duration-near-timeout") || k == "results-table-write-throttled"]) == 0
    error_message = "Deadline, dropped-event, duration and table alarms need their inputs."
  }
}

run "deadline_alarms_can_only_be_disabled" {
  command = plan

  # GIVEN the stream-deadline warning turned off
  variables {
    alarm_overrides = { dlq-stream-deadline-warning = { enabled = false } }
  }

  # WHEN it is planned
  # THEN only the critical one remains
  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.backlog) == ["dlq-stream-deadline-critical"]
    error_message = "enabled = false must remove a deadline alarm."
  }
}

run "rejects_bad_zero_loss_inputs" {
  command = plan

  variables {
    # duration_timeout_percent_above_99
    duration_timeout_percent = 100
    # function_timeout_above_900
    function_timeouts = { orders-processor = 901 }
    # stream_retention_below_24
    stream_retention_hours = 12
    # dlq_retention_above_14_days
    dlq_message_retention_seconds = 1209601
    # deadline_fraction_above_0_95
    deadline_fractions = { dlq_critical = 1 }
    # results_table_name_too_short
    results_table_name = "ab"
    # mapping_uuid_keyed_by_arn
    consumer_event_source_mapping_uuids = { "arn:aws:lambda:eu-west-1:111122223333:function:x" = "a1b2c3d4-5678-90ab-cdef-111111111111" }
    # override_of_derived_threshold
    alarm_overrides = { dlq-retention-critical = { threshold = 3600 } }
  }

  expect_failures = [
    var.duration_timeout_percent,
    var.function_timeouts,
    var.stream_retention_hours,
    var.dlq_message_retention_seconds,
    var.deadline_fractions,
    var.results_table_name,
    var.consumer_event_source_mapping_uuids,
    var.alarm_overrides,
  ]
}

run "rejects_bad_zero_loss_inputs_2" {
  command = plan

  variables {
    # duration_timeout_percent_below_50
    duration_timeout_percent = 49
    # function_timeout_below_1
    function_timeouts = { orders-processor = 0 }
    # stream_retention_above_8760
    stream_retention_hours = 8761
    # dlq_retention_below_60
    dlq_message_retention_seconds = 59
    # deadline_warning_not_below_critical
    deadline_fractions = { stream_warning = 0.5, stream_critical = 0.5 }
    # override_of_duration_threshold
    alarm_overrides = { consumer-duration-near-timeout = { threshold = 1000 } }
  }

  expect_failures = [
    var.duration_timeout_percent,
    var.function_timeouts,
    var.stream_retention_hours,
    var.dlq_message_retention_seconds,
    var.deadline_fractions,
    var.alarm_overrides,
  ]
}

run "retention_without_dlq" {
  command = plan

  # GIVEN retention values but no DLQ
  variables {
    dlq_name = null
  }

  # WHEN it is planned THEN the plan fails naming the missing queue
  expect_failures = [aws_sns_topic.this]
}
