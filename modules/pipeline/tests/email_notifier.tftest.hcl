# The optional e-mail notifier: its inputs' rules, its least-privilege statements, its event
# filter and its own enhanced fan-out consumer. Plans against a mocked provider; the ARNs the
# assertions compare are fixed at plan time (override_during = plan).

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_region" {
    defaults = {
      id = "eu-west-1"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  # Known at plan: the alarms' check block alarm_subscriptions_confirmed reads it.
  mock_resource "aws_sns_topic_subscription" {
    override_during = plan
    defaults = {
      pending_confirmation = false
    }
  }
}

override_resource {
  target          = module.stream.aws_kinesis_stream.this
  override_during = plan
  values = {
    arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"
  }
}

override_resource {
  target          = module.stream.aws_kinesis_stream_consumer.this
  override_during = plan
  values = {
    arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders/consumer/orders-notifier:1700000000"
  }
}

override_resource {
  target          = aws_dynamodb_table.notifier_idempotency
  override_during = plan
  values = {
    arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/orders-notifier-idempotency"
  }
}

override_resource {
  target          = aws_dynamodb_table.notifier_rate_limit
  override_during = plan
  values = {
    arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/orders-notifier-rate-limit"
  }
}

variables {
  name = "orders"
  consumers = {
    processor = {
      package             = { filename = "../../build/stream_processor.zip" }
      handler             = "stream_processor.app.lambda_handler"
      write_results_table = true
      environment_variables = {
        POWERTOOLS_SERVICE_NAME = "stream_processor"
      }
    }
  }
  hydrate_package            = "../../build/hydrate.zip"
  dependencies_layer_package = "../../build/dependencies-python3.12-arm64.zip"
  email_notifier_package     = "../../build/email_notifier.zip"
  email_notifier = {
    sender_address = "notifications@example.com"
    identity       = "example.com"
    recipients     = { allowed_domains = ["example.com"] }
  }
}

run "notifier_defaults" {
  command = plan

  assert {
    condition     = output.email_notifier_function_name == "orders-notifier" && output.email_notifier_idempotency_table_name == "orders-notifier-idempotency"
    error_message = "The notifier is <name>-notifier, its idempotency table <name>-notifier-idempotency."
  }

  assert {
    condition     = jsonencode(sort(keys(module.stream.consumer_arns))) == jsonencode(["orders-notifier", "orders-processor"])
    error_message = "The notifier must have its own enhanced fan-out consumer next to the processor's."
  }

  assert {
    condition     = output.email_notifier_efo_consumer_arn == "arn:aws:kinesis:eu-west-1:111122223333:stream/orders/consumer/orders-notifier:1700000000" && module.email_notifier[0].event_source_type == "kinesis-efo"
    error_message = "The notifier's event source mapping must read its EFO consumer."
  }

  assert {
    condition     = jsonencode(local.notifier_filter_criteria) == jsonencode(["{\"data\":{\"eventType\":[\"purchase\"]}}"])
    error_message = "By default only purchase events may invoke the notifier (a filter on data.eventType)."
  }

  assert {
    condition = jsonencode([for s in local.notifier_policy_statements : s.resources if s.sid == "SendEmailAsSender"]) == jsonencode([[
      "arn:aws:ses:eu-west-1:111122223333:identity/example.com",
      "arn:aws:ses:eu-west-1:111122223333:configuration-set/orders-notifier",
    ]])
    error_message = "ses:SendEmail must be granted on the sender's identity and the module's configuration set only (SES v2 authorises both)."
  }

  assert {
    condition     = jsonencode([for s in local.notifier_policy_statements : s.actions if s.sid == "SendEmailAsSender"]) == jsonencode([["ses:SendEmail"]])
    error_message = "The SES statement must grant ses:SendEmail and nothing else."
  }

  assert {
    condition     = jsonencode([for s in local.notifier_policy_statements : s.conditions if s.sid == "SendEmailAsSender"]) == jsonencode([[{ test = "StringEquals", variable = "ses:FromAddress", values = ["notifications@example.com"] }]])
    error_message = "ses:SendEmail must be limited to the configured From address."
  }

  assert {
    condition     = jsonencode([for s in local.notifier_policy_statements : s.resources if s.sid == "UseIdempotencyTable"]) == jsonencode([["arn:aws:dynamodb:eu-west-1:111122223333:table/orders-notifier-idempotency"]])
    error_message = "The DynamoDB statement must name the idempotency table only."
  }

  assert {
    condition     = jsonencode([for s in local.notifier_policy_statements : s.actions if s.sid == "UseIdempotencyTable"]) == jsonencode([["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]])
    error_message = "The idempotency table gets exactly the item actions Powertools idempotency uses."
  }

  assert {
    condition = one([
      for s in data.aws_iam_policy_document.consumer["notifier"].statement : one(s.condition) if s.sid == "UseIdempotencyTableKey"
    ]) == { test = "StringEquals", variable = "kms:ViaService", values = tolist(["dynamodb.eu-west-1.amazonaws.com"]) }
    error_message = "The idempotency table's key must be usable by the notifier through DynamoDB only."
  }

  assert {
    condition     = alltrue(flatten([for s in local.notifier_policy_statements : [for v in concat(s.actions, s.resources) : !strcontains(v, "*")]]))
    error_message = "No notifier action or resource may contain a wildcard."
  }

  assert {
    condition     = length(aws_sesv2_email_identity.notifier) == 0
    error_message = "Without create_identity the existing identity is used, none is created."
  }

  assert {
    condition     = jsonencode([for s in local.notifier_policy_statements : [s.actions, s.resources] if s.sid == "CountEmailsPerRecipient"]) == jsonencode([[["dynamodb:GetItem", "dynamodb:UpdateItem"], ["arn:aws:dynamodb:eu-west-1:111122223333:table/orders-notifier-rate-limit"]]])
    error_message = "The rate cap needs UpdateItem (and GetItem) on its own table only."
  }

  assert {
    condition = (
      aws_dynamodb_table.notifier_rate_limit[0].name == "orders-notifier-rate-limit" &&
      aws_dynamodb_table.notifier_rate_limit[0].hash_key == "id" &&
      aws_dynamodb_table.notifier_rate_limit[0].ttl[0].attribute_name == "expiration" &&
      aws_dynamodb_table.notifier_rate_limit[0].ttl[0].enabled &&
      aws_dynamodb_table.notifier_rate_limit[0].point_in_time_recovery[0].enabled &&
      aws_dynamodb_table.notifier_rate_limit[0].server_side_encryption[0].enabled &&
      aws_dynamodb_table.notifier_rate_limit[0].deletion_protection_enabled
    )
    error_message = "The rate-limit table: key id, TTL on expiration, PITR, the notifier's customer key, deletion protection as the results table."
  }

  assert {
    condition = (
      aws_sesv2_configuration_set.notifier[0].configuration_set_name == "orders-notifier" &&
      aws_sesv2_configuration_set.notifier[0].reputation_options[0].reputation_metrics_enabled &&
      aws_sesv2_configuration_set.notifier[0].delivery_options[0].tls_policy == "REQUIRE"
    )
    error_message = "The module's configuration set <name>-notifier publishes reputation metrics and requires TLS."
  }

  assert {
    condition = (
      toset(aws_sesv2_configuration_set_event_destination.notifier[0].event_destination[0].matching_event_types) == toset(["SEND", "BOUNCE", "COMPLAINT"]) &&
      aws_sesv2_configuration_set_event_destination.notifier[0].event_destination[0].cloud_watch_destination[0].dimension_configuration[0].dimension_name == "ses:configuration-set"
    )
    error_message = "Sends, bounces and complaints of the configuration set go to CloudWatch, per set."
  }

  assert {
    condition = (
      local.notifier_environment["CONFIGURATION_SET_NAME"] == "orders-notifier" &&
      local.notifier_environment["ALLOWED_RECIPIENT_DOMAINS"] == "example.com" &&
      local.notifier_environment["RATE_LIMIT_TABLE_NAME"] == "orders-notifier-rate-limit" &&
      local.notifier_environment["RATE_LIMIT_MAX_EMAILS"] == "5" &&
      local.notifier_environment["RATE_LIMIT_WINDOW_SECONDS"] == "3600" &&
      !contains(keys(local.notifier_environment), "MAILBOX_SIMULATOR")
    )
    error_message = "Every send names the configuration set; the policy and the default cap (5 per hour) reach the function; no simulator unless asked."
  }

  assert {
    condition = (
      module.alarms.alarm_names["notifier-bounce-rate"] == "orders-notifier-bounce-rate" &&
      module.alarms.alarm_names["notifier-complaint-rate"] == "orders-notifier-complaint-rate"
    )
    error_message = "The configuration set's bounce and complaint rates have their alarms."
  }

  assert {
    condition     = aws_dynamodb_table.notifier_idempotency[0].hash_key == "id" && aws_dynamodb_table.notifier_idempotency[0].billing_mode == "PAY_PER_REQUEST"
    error_message = "The idempotency table must have Powertools' partition key id (on demand)."
  }

  assert {
    condition     = aws_dynamodb_table.notifier_idempotency[0].ttl[0].attribute_name == "expiration" && aws_dynamodb_table.notifier_idempotency[0].ttl[0].enabled
    error_message = "DynamoDB TTL must delete expired idempotency records (attribute expiration)."
  }

  assert {
    condition     = aws_dynamodb_table.notifier_idempotency[0].point_in_time_recovery[0].enabled && aws_dynamodb_table.notifier_idempotency[0].server_side_encryption[0].enabled && aws_dynamodb_table.notifier_idempotency[0].deletion_protection_enabled
    error_message = "The idempotency table must have PITR, KMS encryption and the results table's deletion protection."
  }
}

run "notifier_efo_with_polling_processor" {
  command = plan

  variables {
    consumers = {
      processor = {
        package             = { filename = "../../build/stream_processor.zip" }
        handler             = "stream_processor.app.lambda_handler"
        enhanced_fan_out    = false
        write_results_table = true
      }
    }
  }

  assert {
    condition     = jsonencode(keys(module.stream.consumer_arns)) == jsonencode(["orders-notifier"])
    error_message = "With a polling processor the notifier still reads through its own EFO consumer."
  }

  assert {
    condition     = module.email_notifier[0].event_source_type == "kinesis-efo" && module.consumer["processor"].event_source_type == "kinesis"
    error_message = "Only the processor polls; the notifier reads its EFO consumer."
  }
}

run "notifier_creates_identity_with_abuse_limits" {
  command = plan

  variables {
    results_table_deletion_protection = false
    email_notifier = {
      sender_address  = "notifications@example.com"
      create_identity = true
      event_types     = ["purchase"]
      recipients      = { allowed_domains = ["example.com", "shop.example"], mailbox_simulator = "success" }
      rate_limit      = { max_emails = 20, window_seconds = 86400 }
      configuration_set = {
        bounce_rate_alarm_threshold    = 0.01
        complaint_rate_alarm_threshold = 0.0002
        cloudwatch_event_destination   = false
      }
    }
  }

  assert {
    condition     = aws_sesv2_email_identity.notifier[0].email_identity == "notifications@example.com"
    error_message = "create_identity creates the sender address identity."
  }

  assert {
    condition = jsonencode([for s in local.notifier_policy_statements : s.resources if s.sid == "SendEmailAsSender"]) == jsonencode([[
      "arn:aws:ses:eu-west-1:111122223333:identity/notifications@example.com",
      "arn:aws:ses:eu-west-1:111122223333:configuration-set/orders-notifier",
    ]])
    error_message = "ses:SendEmail is granted on the created identity and the configuration set."
  }

  assert {
    condition = (
      local.notifier_environment["ALLOWED_RECIPIENT_DOMAINS"] == "example.com,shop.example" &&
      local.notifier_environment["MAILBOX_SIMULATOR"] == "success" &&
      local.notifier_environment["RATE_LIMIT_MAX_EMAILS"] == "20" &&
      local.notifier_environment["RATE_LIMIT_WINDOW_SECONDS"] == "86400"
    )
    error_message = "The recipient policy, the simulator and the rate cap reach the function."
  }

  assert {
    condition     = length(aws_sesv2_configuration_set_event_destination.notifier) == 0 && length(aws_sesv2_configuration_set.notifier) == 1
    error_message = "cloudwatch_event_destination = false keeps the configuration set without its event destination."
  }

  assert {
    condition     = !aws_dynamodb_table.notifier_rate_limit[0].deletion_protection_enabled
    error_message = "The rate-limit table follows results_table_deletion_protection."
  }

  assert {
    condition     = jsonencode(local.notifier_filter_criteria) == jsonencode(["{\"data\":{\"eventType\":[\"purchase\"]}}"])
    error_message = "The filter must list the configured event types."
  }

  assert {
    condition     = !aws_dynamodb_table.notifier_idempotency[0].deletion_protection_enabled
    error_message = "The idempotency table follows results_table_deletion_protection."
  }
}

run "without_notifier" {
  command = plan

  variables {
    email_notifier = {
      enabled = false
    }
    email_notifier_package = null
  }

  assert {
    condition     = length(module.email_notifier) == 0 && length(aws_dynamodb_table.notifier_idempotency) == 0 && length(aws_dynamodb_table.notifier_rate_limit) == 0 && length(aws_sesv2_configuration_set.notifier) == 0 && jsonencode(keys(module.stream.consumer_arns)) == jsonencode(["orders-processor"])
    error_message = "email_notifier.enabled = false deploys no notifier, table or EFO consumer."
  }

  assert {
    condition     = output.email_notifier_function_name == null && output.email_notifier_efo_consumer_arn == null
    error_message = "Without the notifier its outputs are null."
  }
}

# Invalid values of email_notifier (one rule each) are in
# tests/modules/test_validation_messages.py: one plan checks them all, and the
# message each one gives. The package rule rides along in this run.
run "invalid_package" {
  command = plan
  variables {
    email_notifier_package = "../../build/email_notifier.tar.gz"
  }
  expect_failures = [var.email_notifier_package]
}

# Cross-variable rules (preconditions on the idempotency table).
run "idempotency_shorter_than_retention_plus_dlq" {
  command = plan
  variables {
    retention_period = 168
    email_notifier = {
      sender_address                    = "notifications@example.com"
      recipients                        = { allowed_domains = ["example.com"] }
      idempotency_expires_after_seconds = 1209600
    }
  }
  expect_failures = [aws_dynamodb_table.notifier_idempotency]
}

run "notifier_without_package" {
  command = plan
  variables {
    email_notifier_package = null
  }
  expect_failures = [aws_dynamodb_table.notifier_idempotency]
}
