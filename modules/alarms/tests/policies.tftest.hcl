# Renders the real topic and key policies and checks their content. The AWS
# provider builds aws_iam_policy_document locally, but only at apply time here
# (the documents reference the topic and key being created), so this run
# applies with EVERY managed resource overridden: Terraform then never calls
# AWS for them, and the dummy credentials below are never used.

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

run "policies_admit_only_this_accounts_alarms" {
  command = apply

  assert {
    condition     = [for s in jsondecode(aws_sns_topic_policy.this.policy).Statement : s.Sid] == ["CloudWatchAlarmsPublish", "DenyInsecureTransport"]
    error_message = "The topic policy must hold exactly the CloudWatch publish statement and the TLS-only deny."
  }

  assert {
    condition = (
      jsondecode(aws_sns_topic_policy.this.policy).Statement[1].Effect == "Deny" &&
      jsondecode(aws_sns_topic_policy.this.policy).Statement[1].Principal == "*" &&
      sort(jsondecode(aws_sns_topic_policy.this.policy).Statement[1].Action) == tolist(["sns:Publish", "sns:Subscribe"]) &&
      jsondecode(aws_sns_topic_policy.this.policy).Statement[1].Condition.Bool["aws:SecureTransport"] == "false"
    )
    error_message = "Publishing and subscribing over plain HTTP must be denied to everyone."
  }

  assert {
    condition = (
      jsondecode(aws_sns_topic_policy.this.policy).Statement[0].Principal.Service == "cloudwatch.amazonaws.com" &&
      jsondecode(aws_sns_topic_policy.this.policy).Statement[0].Action == "sns:Publish" &&
      jsondecode(aws_sns_topic_policy.this.policy).Statement[0].Resource == "arn:aws:sns:eu-west-1:111122223333:orders-alarms"
    )
    error_message = "Only CloudWatch may publish, and only to this topic."
  }

  assert {
    condition     = jsondecode(aws_sns_topic_policy.this.policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "111122223333"
    error_message = "Publishing must be limited to alarms of the topic's own account."
  }

  assert {
    condition     = jsondecode(aws_sns_topic_policy.this.policy).Statement[0].Condition.ArnLike["aws:SourceArn"] == "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:orders-*"
    error_message = "Publishing must be limited to alarms named <name_prefix>-*."
  }

  assert {
    condition     = alltrue([for name in values(aws_cloudwatch_metric_alarm.this)[*].alarm_name : startswith(name, "orders-")])
    error_message = "Every alarm name must match the pattern the policies admit."
  }


  assert {
    condition     = [for s in jsondecode(module.kms_key[0].policy_json).Statement : s.Sid] == ["AccountIamDelegation", "CloudWatchAlarmsUseKey"]
    error_message = "The key policy must hold the account delegation and the CloudWatch statement."
  }

  assert {
    condition     = jsondecode(module.kms_key[0].policy_json).Statement[0].Principal.AWS == "arn:aws:iam::111122223333:root"
    error_message = "Key administration must be delegated to the key's own account."
  }

  assert {
    condition = alltrue([
      for a in flatten([jsondecode(module.kms_key[0].policy_json).Statement[0].Action]) : !strcontains(a, "*")
    ])
    error_message = "The account delegation must list its actions, not kms:*."
  }

  assert {
    condition = (
      jsondecode(module.kms_key[0].policy_json).Statement[1].Principal.Service == "cloudwatch.amazonaws.com" &&
      sort(jsondecode(module.kms_key[0].policy_json).Statement[1].Action) == tolist(["kms:Decrypt", "kms:GenerateDataKey"])
    )
    error_message = "CloudWatch must get exactly kms:Decrypt and kms:GenerateDataKey, which SNS needs to encrypt its notifications."
  }

  assert {
    condition = (
      jsondecode(module.kms_key[0].policy_json).Statement[1].Condition.StringEquals["aws:SourceAccount"] == "111122223333" &&
      jsondecode(module.kms_key[0].policy_json).Statement[1].Condition.ArnLike["aws:SourceArn"] == "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:orders-*"
    )
    error_message = "CloudWatch's use of the key must be limited to this account's alarms named <name_prefix>-*."
  }

  assert {
    condition     = length(local.pending_subscriptions) == 0
    error_message = "A confirmed subscription must not be reported as pending (check alarm_subscriptions_confirmed)."
  }

  assert {
    condition     = aws_sns_topic.this.kms_master_key_id == "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "The topic must be encrypted with the key whose policy admits CloudWatch."
  }
}
