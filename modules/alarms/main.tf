locals {
  # Means `var.kms_key_arn == null`. Checkov renders a null default as a value,
  # resolves that form to false and drops the key, with its rotation and
  # policy checks, from the scan; this form keeps the key in it.
  create_kms_key = !(var.kms_key_arn != null)

  # Per pipeline by default (the pipeline module's and hydrating-dlq's default for the same
  # name), never one namespace shared by every pipeline of the account.
  metrics_namespace = coalesce(var.metrics_namespace, "StreamPipeline/${var.name_prefix}")

  kms_key_arn = local.create_kms_key ? module.kms_key[0].key_arn : var.kms_key_arn

  topic_name = "${var.name_prefix}-alarms"

  # The topic's own ARN (arn:partition:sns:region:account:name) names the
  # account and Region the alarms live in, so the policies can be scoped to
  # them without aws_caller_identity, which cannot be planned without AWS
  # credentials.
  topic_arn_parts = split(":", aws_sns_topic.this.arn)
  alarm_arn_pattern = format(
    "arn:%s:cloudwatch:%s:%s:alarm:%s-*",
    local.topic_arn_parts[1],
    local.topic_arn_parts[3],
    local.topic_arn_parts[4],
    var.name_prefix,
  )

  # Keyed "<protocol>:<endpoint>"; an address in both alarm_emails and
  # subscriptions is subscribed once.
  subscriptions = merge(
    { for email in distinct(var.alarm_emails) : "email:${email}" => { protocol = "email", endpoint = email } },
    { for s in distinct(var.subscriptions) : "${s.protocol}:${s.endpoint}" => { protocol = s.protocol, endpoint = s.endpoint } },
  )

  # Effective settings CloudWatch would reject, by alarm id. An override of
  # one attribute is paired here with the default of the other.
  alarms_with_too_many_datapoints = sort([
    for id, s in local.alarm_settings : id if s.datapoints_to_alarm > s.evaluation_periods
  ])
  alarms_with_too_long_window = sort([
    for id, s in local.alarm_settings : id if s.period * s.evaluation_periods > (s.period < 3600 ? 86400 : 604800)
  ])
}

data "aws_partition" "current" {}

resource "aws_sns_topic" "this" {
  name              = local.topic_name
  kms_master_key_id = local.kms_key_arn
  # SHA256 signatures for the https and email-json subscribers that verify them.
  signature_version = 2

  tags = var.tags

  lifecycle {
    # Cross-variable rules live here because variable validation may only
    # reference other variables from Terraform 1.9 on. The topic is the one
    # resource that always exists.
    precondition {
      condition     = length(local.alarms_with_too_many_datapoints) == 0
      error_message = "alarm_overrides: datapoints_to_alarm must not exceed evaluation_periods (overridden or default) for: ${join(", ", local.alarms_with_too_many_datapoints)}. Override both, or pick a value between 1 and the default evaluation_periods shown in the README."
    }

    precondition {
      condition     = length(local.alarms_with_too_long_window) == 0
      error_message = "alarm_overrides: period x evaluation_periods (overridden or default) must be at most 86400 seconds when period is under 3600, at most 604800 seconds otherwise, for: ${join(", ", local.alarms_with_too_long_window)}."
    }

    precondition {
      condition     = length(var.efo_consumer_names) == 0 || var.stream_name != null
      error_message = "efo_consumer_names needs stream_name: enhanced fan-out consumer metrics are published per stream and consumer."
    }

    precondition {
      condition     = (var.stream_retention_hours == null && var.dlq_message_retention_seconds == null) || var.dlq_name != null
      error_message = "stream_retention_hours and dlq_message_retention_seconds need dlq_name: they set the deadlines of the messages in that queue."
    }

    precondition {
      condition     = var.min_incoming_records_per_period == null || var.stream_name != null
      error_message = "min_incoming_records_per_period needs stream_name: it is the threshold of an alarm on the stream's IncomingRecords."
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

data "aws_iam_policy_document" "topic" {
  # CloudWatch publishes as its service principal; the conditions admit only
  # alarms of this account whose names carry this module's prefix, so no other
  # account (or other alarm) can use CloudWatch as a confused deputy.
  # Principals of the owning account need no statement: their IAM policies
  # grant them access to the topic.
  statement {
    sid       = "CloudWatchAlarmsPublish"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.${data.aws_partition.current.dns_suffix}"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.topic_arn_parts[4]]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.alarm_arn_pattern]
    }
  }

  # Alarm notifications name the pipeline's resources and their state: never over plain HTTP,
  # whoever publishes or subscribes.
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish", "sns:Subscribe"]
    resources = [aws_sns_topic.this.arn]

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

# E-mail subscriptions stay "pending confirmation" until the recipient
# confirms; Terraform cannot confirm them and, on destroy, only forgets them
# (AWS deletes unconfirmed subscriptions after three days).
resource "aws_sns_topic_subscription" "this" {
  for_each = local.subscriptions

  topic_arn = aws_sns_topic.this.arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
}

# An alarm e-mail nobody confirmed reaches nobody, and CloudWatch has no metric for it: every
# plan and apply after the subscription exists warns, naming the addresses, until each recipient
# confirms (a check block warns, it does not fail the run). `stream-pipeline verify` fails on the
# same, on a deployed stack.
check "alarm_subscriptions_confirmed" {
  assert {
    condition     = length(local.pending_subscriptions) == 0
    error_message = "Alarm subscriptions still pending confirmation, which receive no alarm: ${join(", ", local.pending_subscriptions)}. Each recipient must follow the link in the \"AWS Notification - Subscription Confirmation\" e-mail (AWS deletes an unconfirmed subscription after 3 days: then taint or re-create it)."
  }
}

locals {
  pending_subscriptions = sort([for key, subscription in aws_sns_topic_subscription.this : key if subscription.pending_confirmation])
}
