# The resources and the consumer entry with the default thresholds. The provider is mocked
# (apply gives every computed value a fake one).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name    = "shop"
  package = { filename = "../../build/fraud_detector.zip" }
}

run "tables_topic_and_key" {
  command = apply

  assert {
    condition     = aws_dynamodb_table.history.ttl[0].enabled && aws_dynamodb_table.history.ttl[0].attribute_name == "expiresAt"
    error_message = "The history expires by TTL on expiresAt."
  }

  assert {
    condition     = aws_dynamodb_table.history.hash_key == "userId" && aws_dynamodb_table.history.range_key == "eventKey"
    error_message = "The history is keyed by userId and eventKey, as functions/fraud_detector writes it."
  }

  assert {
    condition     = aws_dynamodb_table.flags.hash_key == "userId" && aws_dynamodb_table.flags.range_key == "flagKey"
    error_message = "Flags are keyed by userId and flagKey, as functions/fraud_detector writes them."
  }

  assert {
    condition     = aws_dynamodb_table.flags.deletion_protection_enabled
    error_message = "The flags table is protected by default."
  }

  assert {
    condition = alltrue([
      for table in [aws_dynamodb_table.history, aws_dynamodb_table.flags] :
      table.server_side_encryption[0].kms_key_arn == module.key.key_arn && table.point_in_time_recovery[0].enabled
    ])
    error_message = "Both tables use the module's key and point-in-time recovery."
  }

  assert {
    condition     = aws_sns_topic.alerts.kms_master_key_id == module.key.key_arn
    error_message = "The alert topic is encrypted with the module's key."
  }

  assert {
    condition = (
      one(data.aws_iam_policy_document.alerts.statement).effect == "Deny" &&
      one(data.aws_iam_policy_document.alerts.statement).actions == toset(["sns:Publish", "sns:Subscribe"]) &&
      one(one(data.aws_iam_policy_document.alerts.statement).condition) == { test = "Bool", variable = "aws:SecureTransport", values = tolist(["false"]) } &&
      aws_sns_topic_policy.alerts.arn == aws_sns_topic.alerts.arn
    )
    error_message = "The alert topic denies publishing and subscribing over plain HTTP."
  }
}

run "consumer_entry" {
  command = apply

  assert {
    condition     = output.consumer.enhanced_fan_out && output.consumer.handler == "fraud_detector.app.lambda_handler"
    error_message = "The detector reads through its own enhanced fan-out consumer."
  }

  assert {
    condition     = output.consumer.filter_criteria == [jsonencode({ data = { eventType = ["purchase", "add_to_cart"] } })]
    error_message = "Only purchases and add-to-carts invoke the detector."
  }

  assert {
    condition = output.consumer.environment_variables == {
      ALERT_TOPIC_ARN           = "arn:aws:sns:eu-west-1:111122223333:shop-fraud-alerts"
      CART_BURST_THRESHOLD      = "6"
      CART_BURST_WINDOW_SECONDS = "300"
      FLAGS_TABLE_NAME          = "shop-fraud-flags"
      HISTORY_TABLE_NAME        = "shop-fraud-history"
      HISTORY_TTL_SECONDS       = "7776000"
      PURCHASE_AMOUNT_THRESHOLD = "1000.00"
      PURCHASE_COUNT_THRESHOLD  = "5"
      VELOCITY_WINDOW_SECONDS   = "600"
    }
    error_message = "The thresholds reach the function as the environment variables it reads, with the defaults of functions/fraud_detector/config.py."
  }

  assert {
    condition = [for s in output.consumer.iam_statements : [s.sid, s.resources]] == [
      ["UseHistoryTable", [aws_dynamodb_table.history.arn]],
      ["UseFlagsTable", [aws_dynamodb_table.flags.arn]],
      ["PublishAlerts", [aws_sns_topic.alerts.arn]],
    ]
    error_message = "Each statement names one of the module's own resources, nothing else."
  }

  assert {
    condition     = output.consumer.kms_key_arns == [module.key.key_arn]
    error_message = "The consumer may use the module's key."
  }
}

run "thresholds_reach_the_function" {
  command = apply

  variables {
    thresholds       = { purchase_amount = 2500.5, purchase_count = 10 }
    history_ttl_days = 30
  }

  assert {
    condition = (
      output.consumer.environment_variables.PURCHASE_AMOUNT_THRESHOLD == "2500.50" &&
      output.consumer.environment_variables.PURCHASE_COUNT_THRESHOLD == "10" &&
      output.consumer.environment_variables.CART_BURST_THRESHOLD == "6" &&
      output.consumer.environment_variables.HISTORY_TTL_SECONDS == "2592000"
    )
    error_message = "Set thresholds replace the defaults; unset ones keep them."
  }
}
