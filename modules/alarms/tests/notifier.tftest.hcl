# The e-mail notifier's alarm (notifier-emails-failed) and its inputs, against a mocked provider.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name_prefix             = "orders"
  stream_name             = "orders"
  consumer_function_names = ["orders-processor", "orders-notifier"]
  metrics_namespace       = "StreamPipeline/orders"
}

run "no_notifier_alarm_without_service" {
  command = plan

  assert {
    condition     = !contains(keys(aws_cloudwatch_metric_alarm.this), "notifier-emails-failed")
    error_message = "notifier-emails-failed exists only when notifier_service_name is set."
  }
}

run "notifier_emails_failed" {
  command = plan

  variables {
    notifier_service_name = "email_notifier"
    alarm_overrides = {
      notifier-emails-failed = { datapoints_to_alarm = 2 }
    }
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["notifier-emails-failed"].alarm_name == "orders-notifier-emails-failed" &&
      aws_cloudwatch_metric_alarm.this["notifier-emails-failed"].namespace == "StreamPipeline/orders" &&
      aws_cloudwatch_metric_alarm.this["notifier-emails-failed"].metric_name == "EmailsFailed" &&
      aws_cloudwatch_metric_alarm.this["notifier-emails-failed"].dimensions == tomap({ service = "email_notifier" })
    )
    error_message = "The alarm must watch EmailsFailed of the email_notifier service in the pipeline's namespace."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.this["notifier-emails-failed"].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.this["notifier-emails-failed"].threshold == 0 &&
      aws_cloudwatch_metric_alarm.this["notifier-emails-failed"].datapoints_to_alarm == 2 &&
      aws_cloudwatch_metric_alarm.this["notifier-emails-failed"].treat_missing_data == "notBreaching"
    )
    error_message = "Any failed e-mail breaches (Sum > 0), silence is good news, and overrides apply."
  }

  assert {
    condition     = contains([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.title if w.type == "metric"], "Notifier: e-mails that could not be sent")
    error_message = "The dashboard must chart the notifier's failed e-mails."
  }
}

run "invalid_notifier_inputs" {
  command = plan
  variables {
    notifier_service_name       = " "
    notifier_failed_metric_name = ""
  }
  expect_failures = [var.notifier_service_name, var.notifier_failed_metric_name]
}

run "no_reputation_alarms_without_configuration_set" {
  command = plan

  assert {
    condition     = !contains(keys(aws_cloudwatch_metric_alarm.this), "notifier-bounce-rate") && !contains(keys(aws_cloudwatch_metric_alarm.this), "notifier-complaint-rate")
    error_message = "The reputation alarms exist only when notifier_configuration_set names a configuration set."
  }
}

run "reputation_alarms_watch_the_configuration_set" {
  command = plan

  variables {
    notifier_configuration_set = { name = "orders-notifier" }
  }

  assert {
    condition = alltrue([for id, metric in { notifier-bounce-rate = "Reputation.BounceRate", notifier-complaint-rate = "Reputation.ComplaintRate" } : (
      aws_cloudwatch_metric_alarm.this[id].namespace == "AWS/SES" &&
      aws_cloudwatch_metric_alarm.this[id].metric_name == metric &&
      aws_cloudwatch_metric_alarm.this[id].dimensions == tomap({ "ses:configuration-set" = "orders-notifier" }) &&
      aws_cloudwatch_metric_alarm.this[id].comparison_operator == "GreaterThanThreshold" &&
      aws_cloudwatch_metric_alarm.this[id].treat_missing_data == "notBreaching" &&
      strcontains(aws_cloudwatch_metric_alarm.this[id].alarm_description, "See docs/runbook.md#${id}")
    )])
    error_message = "The two alarms must watch the configuration set's own reputation rates in AWS/SES."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["notifier-bounce-rate"].threshold == 0.025 && aws_cloudwatch_metric_alarm.this["notifier-complaint-rate"].threshold == 0.0005
    error_message = "By default the alarms fire at half of AWS's review levels: 2.5 % bounces, 0.05 % complaints."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["notifier-bounce-rate"].alarm_actions == toset([aws_sns_topic.this.arn])
    error_message = "The reputation alarms notify the alarm topic."
  }
}

run "reputation_alarm_thresholds_are_inputs" {
  command = plan

  variables {
    notifier_configuration_set = { name = "orders-notifier", bounce_rate_threshold = 0.01, complaint_rate_threshold = 0.0002 }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["notifier-bounce-rate"].threshold == 0.01 && aws_cloudwatch_metric_alarm.this["notifier-complaint-rate"].threshold == 0.0002
    error_message = "The thresholds come from notifier_configuration_set."
  }
}

# One rule per run: expect_failures passes when any rule of the variable fails.
run "configuration_set_name_invalid" {
  command = plan
  variables {
    notifier_configuration_set = { name = "orders notifier" }
  }
  expect_failures = [var.notifier_configuration_set]
}

run "bounce_rate_threshold_at_the_review_level" {
  command = plan
  variables {
    notifier_configuration_set = { name = "orders-notifier", bounce_rate_threshold = 0.05 }
  }
  expect_failures = [var.notifier_configuration_set]
}

run "complaint_rate_threshold_zero" {
  command = plan
  variables {
    notifier_configuration_set = { name = "orders-notifier", complaint_rate_threshold = 0 }
  }
  expect_failures = [var.notifier_configuration_set]
}
