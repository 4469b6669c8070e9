# An alarm e-mail nobody confirmed reaches nobody: the check block alarm_subscriptions_confirmed
# reports it on every plan and apply (a warning naming the address). Its own file: the runs of a
# file share one state, and the subscription below must be created pending.

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  skip_region_validation      = true
}

override_resource {
  target = aws_sns_topic.this
  values = {
    arn = "arn:aws:sns:eu-west-1:111122223333:orders-alarms"
  }
}

override_resource {
  target = module.kms_key[0].aws_kms_key.this
  values = {
    arn    = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }
}

override_resource {
  target = module.kms_key[0].aws_kms_key_policy.this
}

override_resource {
  target = aws_sns_topic_policy.this
}

override_resource {
  target = aws_sns_topic_subscription.this
  values = {
    pending_confirmation = true
  }
}

override_resource {
  target = aws_cloudwatch_metric_alarm.this
}

override_resource {
  target = aws_cloudwatch_dashboard.this
}

variables {
  name_prefix  = "orders"
  alarm_emails = ["oncall@example.com"]
  stream_name  = "orders"
}

run "pending_alarm_subscription_is_reported" {
  command = apply

  assert {
    condition     = local.pending_subscriptions == tolist(["email:oncall@example.com"])
    error_message = "The pending subscription must be named by its protocol and endpoint."
  }

  expect_failures = [check.alarm_subscriptions_confirmed]
}
