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
