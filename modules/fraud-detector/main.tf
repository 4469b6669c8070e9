# The fraud detector (functions/fraud_detector): its tables, its alert topic and its key. The
# function itself is a consumer of the pipeline: this module's `consumer` output is one entry of
# modules/pipeline's `consumers`, so the pipeline wires it like any other (its own enhanced
# fan-out consumer, the DLQ, the on-failure topic, the claim-check, metrics and alarms):
#
#   consumers = { processor = { ... }, fraud = module.fraud.consumer }

locals {
  history_table_name = "${var.name}-fraud-history"
  flags_table_name   = "${var.name}-fraud-flags"
  topic_name         = "${var.name}-fraud-alerts"
}

module "key" {
  source = "../kms-key"

  description = "Fraud detector tables ${local.history_table_name}, ${local.flags_table_name} and topic ${local.topic_name}"
  tags        = var.tags
}

# One item per event (userId, <timestamp>#<eventId>) and one per country purchased from
# (userId, country#<CC>); expiresAt is the event time + history_ttl_days.
resource "aws_dynamodb_table" "history" {
  name         = local.history_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "userId"
  range_key    = "eventKey"

  attribute {
    name = "userId"
    type = "S"
  }

  attribute {
    name = "eventKey"
    type = "S"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = module.key.key_arn
  }

  tags = var.tags
}

# One item per (user, rule, window): userId, <rule>#<window start> (new-country#<CC>).
resource "aws_dynamodb_table" "flags" {
  name                        = local.flags_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "userId"
  range_key                   = "flagKey"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "userId"
    type = "S"
  }

  attribute {
    name = "flagKey"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = module.key.key_arn
  }

  tags = var.tags
}

# One message per flag (at least once: a subscriber drops a repeated flagId).
resource "aws_sns_topic" "alerts" {
  name              = local.topic_name
  kms_master_key_id = module.key.key_arn

  tags = var.tags
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.alerts.json
}

# Alerts name users and their purchases: never over plain HTTP, whoever publishes or subscribes.
# Who may publish and subscribe is the account's IAM (the detector's role: PublishAlerts).
data "aws_iam_policy_document" "alerts" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish", "sns:Subscribe"]
    resources = [aws_sns_topic.alerts.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

locals {
  consumer = {
    package          = var.package
    handler          = var.handler
    description      = "Fraud detector: velocity, amount, new-country and cart-burst rules per user"
    enhanced_fan_out = true
    # Only purchases and add-to-carts invoke it; records that are not JSON never match a
    # filter on data, so poison records reach the other consumers' DLQ path, not this one.
    filter_criteria = [jsonencode({ data = { eventType = ["purchase", "add_to_cart"] } })]
    kms_key_arns    = [module.key.key_arn]
    environment_variables = {
      ALERT_TOPIC_ARN           = aws_sns_topic.alerts.arn
      CART_BURST_THRESHOLD      = tostring(var.thresholds.cart_burst_count)
      CART_BURST_WINDOW_SECONDS = tostring(var.thresholds.cart_burst_window_seconds)
      FLAGS_TABLE_NAME          = aws_dynamodb_table.flags.name
      HISTORY_TABLE_NAME        = aws_dynamodb_table.history.name
      HISTORY_TTL_SECONDS       = tostring(var.history_ttl_days * 86400)
      PURCHASE_AMOUNT_THRESHOLD = format("%.2f", var.thresholds.purchase_amount)
      PURCHASE_COUNT_THRESHOLD  = tostring(var.thresholds.purchase_count)
      VELOCITY_WINDOW_SECONDS   = tostring(var.thresholds.velocity_window_seconds)
    }
    # What the function calls, on its own resources only (stream, DLQ and keys: the pipeline).
    iam_statements = [
      {
        sid        = "UseHistoryTable"
        actions    = ["dynamodb:BatchWriteItem", "dynamodb:Query", "dynamodb:UpdateItem"]
        resources  = [aws_dynamodb_table.history.arn]
        conditions = []
      },
      {
        sid        = "UseFlagsTable"
        actions    = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"]
        resources  = [aws_dynamodb_table.flags.arn]
        conditions = []
      },
      {
        sid        = "PublishAlerts"
        actions    = ["sns:Publish"]
        resources  = [aws_sns_topic.alerts.arn]
        conditions = []
      },
    ]
  }
}
