# Positive plans against a mocked AWS provider: no credentials, no network.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name_prefix  = "orders"
  alarm_emails = ["oncall@example.com", "streaming-team@example.com"]
}

run "topic_only_without_subjects" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 0 && output.alarm_arns == {} && output.alarm_names == {}
    error_message = "Without subjects the module must create no alarm."
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0 && output.dashboard_name == null
    error_message = "Without subjects there is nothing to chart: no dashboard."
  }

  assert {
    condition     = aws_sns_topic.this.name == "orders-alarms" && output.topic_name == "orders-alarms"
    error_message = "The topic must be named <name_prefix>-alarms."
  }

  # The key's own settings (rotation, deletion window, key policy) are tested in
  # modules/kms-key; the CloudWatch statement in policies.tftest.hcl.
  assert {
    condition     = length(module.kms_key) == 1
    error_message = "Without kms_key_arn the module must create a key."
  }

  assert {
    condition     = keys(aws_sns_topic_subscription.this) == ["email:oncall@example.com", "email:streaming-team@example.com"]
    error_message = "Each alarm_emails entry must get one e-mail subscription."
  }

  assert {
    condition     = alltrue([for s in aws_sns_topic_subscription.this : s.protocol == "email" && s.topic_arn == aws_sns_topic.this.arn])
    error_message = "E-mail subscriptions must use the email protocol on the alarm topic."
  }

  assert {
    condition     = aws_sns_topic_policy.this.arn == aws_sns_topic.this.arn
    error_message = "The topic policy must be attached to the alarm topic."
  }
}

run "stream_only" {
  command = plan

  variables {
    stream_name = "orders"
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.this) == ["stream-iterator-age", "stream-put-records-failed", "stream-read-throttled", "stream-write-throttled"]
    error_message = "With only stream_name, exactly the four stream alarms must exist (no throughput floor unless min_incoming_records_per_period is set)."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.namespace == "AWS/Kinesis" && a.dimensions == tomap({ StreamName = "orders" })])
    error_message = "Stream alarms must watch AWS/Kinesis with the StreamName dimension only."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["stream-iterator-age"].metric_name == "GetRecords.IteratorAgeMilliseconds" && aws_cloudwatch_metric_alarm.this["stream-iterator-age"].statistic == "Maximum"
    error_message = "Stream lag must be the Maximum of GetRecords.IteratorAgeMilliseconds (the worst shard)."
  }

  assert {
    condition     = [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.title if w.type == "metric"] == ["Ingest: records and bytes put on orders", "Ingest: failed records and throttling", "Consumer lag: iterator age (ms)"]
    error_message = "A stream-only dashboard must hold the ingest and lag widgets and nothing else."
  }
}

run "every_subject" {
  command = plan

  variables {
    stream_name                     = "orders"
    efo_consumer_names              = ["stream-processor"]
    consumer_function_names         = ["orders-processor", "orders-email-notifier"]
    consumer_service_name           = "orders-processor"
    hydrate_function_name           = "orders-hydrate"
    hydrate_service_name            = "orders-hydrate"
    dlq_name                        = "orders-dlq"
    min_incoming_records_per_period = 100
    alarm_overrides = {
      consumer-iterator-age = {
        threshold           = 120000
        evaluation_periods  = 10
        datapoints_to_alarm = 8
      }
    }
    tags = {
      team = "streaming"
    }
  }

  assert {
    condition = keys(aws_cloudwatch_metric_alarm.this) == [
      "consumer-batch-item-failures/orders-processor",
      "consumer-destination-delivery-failures/orders-email-notifier",
      "consumer-destination-delivery-failures/orders-hydrate",
      "consumer-destination-delivery-failures/orders-processor",
      "consumer-errors/orders-email-notifier",
      "consumer-errors/orders-processor",
      "consumer-iterator-age/orders-email-notifier",
      "consumer-iterator-age/orders-processor",
      "consumer-records-sent-to-dlq",
      "consumer-throttles/orders-email-notifier",
      "consumer-throttles/orders-processor",
      "dlq-messages-visible",
      "dlq-oldest-message-age",
      "dlq-payloads-omitted/orders-hydrate",
      "dlq-payloads-omitted/orders-processor",
      "efo-consumer-lag/stream-processor",
      "hydrate-errors",
      "hydrate-payload-unavailable",
      "stream-incoming-records-low",
      "stream-iterator-age",
      "stream-put-records-failed",
      "stream-read-throttled",
      "stream-write-throttled",
    ]
    error_message = "Every alarm of the catalog must exist once per subject."
  }

  assert {
    condition = alltrue([
      for a in aws_cloudwatch_metric_alarm.this : a.actions_enabled && a.alarm_actions == toset([aws_sns_topic.this.arn]) && a.ok_actions == a.alarm_actions
    ])
    error_message = "Every alarm must be enabled and notify the topic on ALARM and on OK."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : length(coalesce(a.insufficient_data_actions, [])) == 0])
    error_message = "INSUFFICIENT_DATA must notify nobody: for these metrics it mostly means an idle pipeline."
  }

  assert {
    condition = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.treat_missing_data } == {
      "consumer-batch-item-failures/orders-processor"                = "notBreaching"
      "consumer-destination-delivery-failures/orders-email-notifier" = "notBreaching"
      "consumer-destination-delivery-failures/orders-hydrate"        = "notBreaching"
      "consumer-destination-delivery-failures/orders-processor"      = "notBreaching"
      "consumer-errors/orders-email-notifier"                        = "notBreaching"
      "consumer-errors/orders-processor"                             = "notBreaching"
      "consumer-iterator-age/orders-email-notifier"                  = "missing"
      "consumer-iterator-age/orders-processor"                       = "missing"
      "consumer-records-sent-to-dlq"                                 = "notBreaching"
      "consumer-throttles/orders-email-notifier"                     = "notBreaching"
      "consumer-throttles/orders-processor"                          = "notBreaching"
      "dlq-messages-visible"                                         = "ignore"
      "dlq-oldest-message-age"                                       = "ignore"
      "dlq-payloads-omitted/orders-hydrate"                          = "notBreaching"
      "dlq-payloads-omitted/orders-processor"                        = "notBreaching"
      "efo-consumer-lag/stream-processor"                            = "breaching"
      "hydrate-errors"                                               = "notBreaching"
      "hydrate-payload-unavailable"                                  = "notBreaching"
      "stream-incoming-records-low"                                  = "breaching"
      "stream-iterator-age"                                          = "missing"
      "stream-put-records-failed"                                    = "notBreaching"
      "stream-read-throttled"                                        = "notBreaching"
      "stream-write-throttled"                                       = "notBreaching"
    }
    error_message = "treat_missing_data must be the documented choice for each alarm."
  }

  assert {
    condition = alltrue([
      for a in [aws_cloudwatch_metric_alarm.this["consumer-iterator-age/orders-processor"], aws_cloudwatch_metric_alarm.this["consumer-iterator-age/orders-email-notifier"]] :
      a.threshold == 120000 && a.evaluation_periods == 10 && a.datapoints_to_alarm == 8 && a.period == 60
    ])
    error_message = "The override must reach every consumer-iterator-age alarm, and unset attributes keep their default."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["stream-iterator-age"].threshold == 60000 && aws_cloudwatch_metric_alarm.this["stream-iterator-age"].evaluation_periods == 5
    error_message = "An override of one alarm must not change another."
  }

  assert {
    condition     = strcontains(aws_cloudwatch_metric_alarm.this["consumer-iterator-age/orders-processor"].alarm_description, "> 120000 in 8 of 10 periods of 60 s")
    error_message = "Descriptions must state the condition as overridden."
  }

  assert {
    condition     = alltrue([for k, a in aws_cloudwatch_metric_alarm.this : endswith(a.alarm_description, "See docs/runbook.md#${split("/", k)[0]}") && length(a.alarm_description) <= 1024])
    error_message = "Every description must end with its runbook anchor and fit CloudWatch's 1024 characters."
  }

  assert {
    condition     = alltrue([for k, a in aws_cloudwatch_metric_alarm.this : startswith(a.alarm_name, "orders-${split("/", k)[0]}")])
    error_message = "Alarm names must be <name_prefix>-<alarm-id>[-<subject>] (the policies admit <name_prefix>-* only)."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["stream-incoming-records-low"].comparison_operator == "LessThanThreshold" && aws_cloudwatch_metric_alarm.this["stream-incoming-records-low"].threshold == 100 && aws_cloudwatch_metric_alarm.this["stream-incoming-records-low"].period == 300
    error_message = "The throughput floor must alarm below min_incoming_records_per_period per 5 minutes."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["consumer-records-sent-to-dlq"].namespace == "StreamPipeline/orders" &&
      aws_cloudwatch_metric_alarm.this["hydrate-payload-unavailable"].namespace == "StreamPipeline/orders" &&
      aws_cloudwatch_metric_alarm.this["consumer-records-sent-to-dlq"].metric_name == "RecordsSentToDlq" &&
      aws_cloudwatch_metric_alarm.this["consumer-records-sent-to-dlq"].dimensions == tomap({ service = "orders-processor" }) &&
      aws_cloudwatch_metric_alarm.this["hydrate-payload-unavailable"].metric_name == "PayloadUnavailable" &&
      aws_cloudwatch_metric_alarm.this["hydrate-payload-unavailable"].dimensions == tomap({ service = "orders-hydrate" })
    )
    error_message = "Powertools alarms must match the EMF namespace, metric name and service dimension exactly."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["efo-consumer-lag/stream-processor"].dimensions == tomap({ StreamName = "orders", ConsumerName = "stream-processor" })
    error_message = "The EFO alarm must watch the consumer on the stream."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["dlq-oldest-message-age"].threshold == 86400 && aws_cloudwatch_metric_alarm.this["dlq-messages-visible"].dimensions == tomap({ QueueName = "orders-dlq" })
    error_message = "DLQ alarms must watch the queue, the oldest message at one day."
  }

  assert {
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.title if w.type == "metric"] == [
      "Ingest: records and bytes put on orders",
      "Ingest: failed records and throttling",
      "Consumer lag: iterator age (ms)",
      "Consumers: errors and throttles",
      "Loss signals: failed on-failure deliveries, payloads omitted from the DLQ",
      "Dead letters: records the consumer sent to the DLQ",
      "DLQ: messages waiting",
      "DLQ: age of the oldest message (s)",
      "Hydrate: payloads unavailable (lost) and errors",
    ]
    error_message = "The dashboard must chart every subject, in pipeline order."
  }

  assert {
    condition     = alltrue([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.region == "eu-west-1" if w.type == "metric"])
    error_message = "Metric widgets must name the provider's Region."
  }

  assert {
    condition     = [for a in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets[3].properties.annotations.horizontal : a.value] == [120000, 60000, 60000]
    error_message = "The lag widget must draw the effective iterator-age thresholds."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.tags == tomap({ team = "streaming" })])
    error_message = "Tags must reach the alarms."
  }
}

run "override_disables_alarm" {
  command = plan

  variables {
    consumer_function_names = ["orders-processor"]
    alarm_overrides = {
      consumer-throttles = {
        enabled = false
      }
    }
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.this) == ["consumer-destination-delivery-failures/orders-processor", "consumer-errors/orders-processor", "consumer-iterator-age/orders-processor"]
    error_message = "enabled = false must remove that alarm and keep the others."
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets) == 4
    error_message = "The dashboard keeps charting a metric whose alarm is disabled (text, lag, errors and throttles, loss signals)."
  }
}

run "caller_supplied_key_and_no_dashboard" {
  command = plan

  variables {
    kms_key_arn      = "arn:aws:kms:eu-west-1:111122223333:key/mrk-0123456789abcdef0123456789abcdef"
    dlq_name         = "orders-dlq"
    create_dashboard = false
  }

  assert {
    condition     = length(module.kms_key) == 0
    error_message = "With kms_key_arn the module must not create a key or key policy."
  }

  assert {
    condition     = aws_sns_topic.this.kms_master_key_id == var.kms_key_arn && output.kms_key_arn == var.kms_key_arn
    error_message = "The topic must be encrypted with the supplied key."
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0 && output.dashboard_name == null
    error_message = "create_dashboard = false must leave the dashboard out."
  }

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.this) == ["dlq-messages-visible", "dlq-oldest-message-age"]
    error_message = "With only dlq_name, exactly the two DLQ alarms must exist."
  }
}

run "subscriptions_merge_with_emails" {
  command = plan

  variables {
    subscriptions = [
      { protocol = "email", endpoint = "oncall@example.com" },
      { protocol = "https", endpoint = "https://alerts.example.com/hooks/cloudwatch" },
      { protocol = "sqs", endpoint = "arn:aws:sqs:eu-west-1:111122223333:alarm-archive" },
      { protocol = "lambda", endpoint = "arn:aws:lambda:eu-west-1:111122223333:function:chatops:live" },
      { protocol = "sms", endpoint = "+15555550100" },
      { protocol = "email-json", endpoint = "alarms-json@example.com" },
    ]
  }

  assert {
    condition = keys(aws_sns_topic_subscription.this) == [
      "email-json:alarms-json@example.com",
      "email:oncall@example.com",
      "email:streaming-team@example.com",
      "https:https://alerts.example.com/hooks/cloudwatch",
      "lambda:arn:aws:lambda:eu-west-1:111122223333:function:chatops:live",
      "sms:+15555550100",
      "sqs:arn:aws:sqs:eu-west-1:111122223333:alarm-archive",
    ]
    error_message = "Each endpoint must be subscribed once, an address in both lists included."
  }

  assert {
    condition     = aws_sns_topic_subscription.this["sqs:arn:aws:sqs:eu-west-1:111122223333:alarm-archive"].protocol == "sqs"
    error_message = "Subscriptions must keep their protocol."
  }
}

run "one_dlq_alarm_per_consumer_service" {
  command = plan

  variables {
    consumer_service_names = ["email_notifier", "stream_processor"]
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["consumer-records-sent-to-dlq/stream_processor"].alarm_name == "orders-consumer-records-sent-to-dlq-stream_processor" &&
      aws_cloudwatch_metric_alarm.this["consumer-records-sent-to-dlq/stream_processor"].dimensions == tomap({ service = "stream_processor" }) &&
      aws_cloudwatch_metric_alarm.this["consumer-records-sent-to-dlq/email_notifier"].dimensions == tomap({ service = "email_notifier" })
    )
    error_message = "Each consumer service must get its own consumer-records-sent-to-dlq alarm on its service dimension."
  }
}
