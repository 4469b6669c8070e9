# The optional second consumer: email_notifier sends one e-mail (SES v2) per event of the
# configured types. It reads the stream through an enhanced fan-out consumer of its own, so it
# neither shares another consumer's read throughput nor depends on their enhanced_fan_out; an event
# filter drops every other record before invocation. Records it gives up on share the
# pipeline's hydrating DLQ (the envelope's `consumer` field names the function), and a replay
# puts them back into the stream: both consumers are idempotent, so the one that had already
# succeeded ignores them. Its idempotency table keeps an e-mail from being sent twice.
#
# Abuse limits (whoever can write to the stream chooses recipient and product name): a recipient
# policy (allowed domains, or the SES mailbox simulator outside prod), a per-recipient rate cap
# counted in a table of its own, and an SES configuration set used on every send, whose
# reputation metrics the alarms module watches (notifier-bounce-rate, notifier-complaint-rate).

locals {
  email_notifier_enabled = var.email_notifier.enabled
  notifier = local.email_notifier_enabled ? {
    name              = "${var.name}-notifier"
    efo_consumer_name = "${var.name}-notifier"
    table_name        = "${var.name}-notifier-idempotency"
    rate_table_name   = "${var.name}-notifier-rate-limit"
    configuration_set = "${var.name}-notifier"
    identity          = coalesce(var.email_notifier.identity, var.email_notifier.sender_address)
    settings          = var.email_notifier
  } : null

  # Only these records invoke the function. Records whose data is not JSON never match a
  # filter on data, so poison records reach the processor (and its DLQ path) only.
  notifier_filter_criteria = local.email_notifier_enabled ? [
    jsonencode({ data = { eventType = var.email_notifier.event_types } })
  ] : []

  # SES v2 SendEmail is authorised on the sending identity and, when one is used, on the
  # configuration set: arn:<partition>:ses:<region>:<account>:identity/<identity>. The
  # partition, Region and account are read from the stream's ARN (no aws_caller_identity,
  # which cannot be planned without AWS credentials).
  stream_arn_parts = split(":", module.stream.stream_arn)
  ses_arn_prefix   = format("arn:%s:ses:%s:%s", local.stream_arn_parts[1], local.stream_arn_parts[3], local.stream_arn_parts[4])
  # A consumer's own table (consumers[*].table_name) lives in the stream's account and Region.
  dynamodb_arn_prefix = format("arn:%s:dynamodb:%s:%s", local.stream_arn_parts[1], local.stream_arn_parts[3], local.stream_arn_parts[4])
  notifier_ses_resources = local.email_notifier_enabled ? [
    # Through the resources when the module creates them, so the grant follows them.
    "${local.ses_arn_prefix}:identity/${try(aws_sesv2_email_identity.notifier[0].email_identity, local.notifier.identity)}",
    "${local.ses_arn_prefix}:configuration-set/${aws_sesv2_configuration_set.notifier[0].configuration_set_name}",
  ] : []

  # The function's settings (functions/email_notifier/README.md, Environment).
  notifier_environment = local.email_notifier_enabled ? merge(
    {
      SENDER_ADDRESS                    = var.email_notifier.sender_address
      IDEMPOTENCY_TABLE_NAME            = aws_dynamodb_table.notifier_idempotency[0].name
      IDEMPOTENCY_EXPIRES_AFTER_SECONDS = tostring(var.email_notifier.idempotency_expires_after_seconds)
      NOTIFY_EVENT_TYPES                = join(",", var.email_notifier.event_types)
      CONFIGURATION_SET_NAME            = aws_sesv2_configuration_set.notifier[0].configuration_set_name
      ALLOWED_RECIPIENT_DOMAINS         = join(",", var.email_notifier.recipients.allowed_domains)
      RATE_LIMIT_TABLE_NAME             = aws_dynamodb_table.notifier_rate_limit[0].name
      RATE_LIMIT_MAX_EMAILS             = tostring(var.email_notifier.rate_limit.max_emails)
      RATE_LIMIT_WINDOW_SECONDS         = tostring(var.email_notifier.rate_limit.window_seconds)
      DLQ_URL                           = module.dlq.dlq_url
      DLQ_MAC_KEY_ARN                   = module.dlq.mac_key_arn
      POWERTOOLS_SERVICE_NAME           = "email_notifier"
      POWERTOOLS_METRICS_NAMESPACE      = local.metrics_namespace
    },
    var.email_notifier.recipients.mailbox_simulator == null ? {} : {
      MAILBOX_SIMULATOR = var.email_notifier.recipients.mailbox_simulator
    },
    local.claim_check_environment["notifier"],
  ) : {}

  # The notifier's own statements, added to what stream-consumer generates (stream, EFO
  # consumer, DLQ, on-failure topic, keys). Powertools idempotency reads, writes, updates and
  # deletes its records; nothing else of the table, and no other table.
  notifier_policy_statements = local.email_notifier_enabled ? [
    {
      sid       = "SendEmailAsSender"
      actions   = ["ses:SendEmail"]
      resources = local.notifier_ses_resources
      conditions = [{
        test     = "StringEquals"
        variable = "ses:FromAddress"
        values   = [var.email_notifier.sender_address]
      }]
    },
    {
      sid = "UseIdempotencyTable"
      actions = [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
      ]
      resources  = [aws_dynamodb_table.notifier_idempotency[0].arn]
      conditions = []
    },
    {
      # One conditional UpdateItem per e-mail; GetItem only when a store does not return the
      # old item of a failed condition.
      sid        = "CountEmailsPerRecipient"
      actions    = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
      resources  = [aws_dynamodb_table.notifier_rate_limit[0].arn]
      conditions = []
    },
  ] : []
}

resource "aws_sesv2_email_identity" "notifier" {
  count = local.email_notifier_enabled ? (var.email_notifier.create_identity ? 1 : 0) : 0

  email_identity = local.notifier.identity

  tags = var.tags
}

module "notifier_key" {
  source = "../kms-key"
  count  = local.email_notifier_enabled ? 1 : 0

  description = "Notifier tables ${local.notifier.table_name} and ${local.notifier.rate_table_name}"
  tags        = var.tags
}

# Powertools Idempotency (DynamoDBPersistenceLayer defaults): partition key `id`, expiry in
# `expiration`, which DynamoDB's TTL deletes once it has passed.
resource "aws_dynamodb_table" "notifier_idempotency" {
  count = local.email_notifier_enabled ? 1 : 0

  name                        = local.notifier.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.results_table_deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expiration"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = module.notifier_key[0].key_arn
  }

  tags = var.tags

  lifecycle {
    # Cross-variable rules live here because variable validation may only reference other
    # variables from Terraform 1.9 on.
    precondition {
      condition     = var.email_notifier_package != null
      error_message = "email_notifier_package is required when email_notifier is enabled: the path of build/email_notifier.zip (make package)."
    }

    precondition {
      condition     = var.email_notifier.idempotency_expires_after_seconds >= var.retention_period * 3600 + 1209600
      error_message = "email_notifier.idempotency_expires_after_seconds must cover the stream's retention plus the DLQ's 14 days (${var.retention_period * 3600 + 1209600} seconds here): a record redelivered from the stream, or replayed from the DLQ, after its idempotency record expired would be e-mailed twice."
    }
  }
}

# The per-recipient rate cap (functions/email_notifier/rate_limit.py): one item per hashed
# recipient and window, deleted by TTL after the next window. Same conventions as the
# idempotency table (customer key, PITR, deletion protection with the results table).
resource "aws_dynamodb_table" "notifier_rate_limit" {
  count = local.email_notifier_enabled ? 1 : 0

  name                        = local.notifier.rate_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = var.results_table_deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expiration"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = module.notifier_key[0].key_arn
  }

  tags = var.tags
}

# Used on every send (CONFIGURATION_SET_NAME): SES publishes the set's own bounce and complaint
# rates (reputation metrics), which modules/alarms watches; the event destination adds counts of
# sends, bounces and complaints per set to CloudWatch for triage.
resource "aws_sesv2_configuration_set" "notifier" {
  count = local.email_notifier_enabled ? 1 : 0

  configuration_set_name = local.notifier.configuration_set

  reputation_options {
    reputation_metrics_enabled = true
  }

  sending_options {
    sending_enabled = true
  }

  # Order confirmations carry personal data: no delivery over a plain-text connection.
  delivery_options {
    tls_policy = "REQUIRE"
  }

  # Addresses that bounced or complained are not mailed again (the account-level list).
  suppression_options {
    suppressed_reasons = ["BOUNCE", "COMPLAINT"]
  }

  tags = var.tags
}

resource "aws_sesv2_configuration_set_event_destination" "notifier" {
  count = local.email_notifier_enabled && var.email_notifier.configuration_set.cloudwatch_event_destination ? 1 : 0

  configuration_set_name = aws_sesv2_configuration_set.notifier[0].configuration_set_name
  event_destination_name = "cloudwatch"

  event_destination {
    enabled              = true
    matching_event_types = ["SEND", "BOUNCE", "COMPLAINT"]

    cloud_watch_destination {
      # SES tags every message with its configuration set.
      dimension_configuration {
        dimension_name          = "ses:configuration-set"
        dimension_value_source  = "MESSAGE_TAG"
        default_dimension_value = local.notifier.configuration_set
      }
    }
  }
}

module "email_notifier" {
  source = "../stream-consumer"
  count  = local.email_notifier_enabled ? 1 : 0

  name    = local.notifier.name
  handler = "email_notifier.app.lambda_handler"
  # Never hydrate's code in practice: without email_notifier_package the precondition on the
  # idempotency table fails the plan; the fallback only keeps that the one error reported.
  package = { filename = coalesce(var.email_notifier_package, var.hydrate_package) }

  layers                = local.layers
  runtime               = local.runtime
  architectures         = local.architectures
  memory_size           = var.email_notifier.memory_size
  timeout               = var.email_notifier.timeout
  log_retention_in_days = var.log_retention_in_days

  # Always its own enhanced fan-out consumer, whatever the processor uses.
  event_source_arn                   = module.stream.consumer_arns[local.notifier.efo_consumer_name]
  filter_criteria                    = local.notifier_filter_criteria
  batch_size                         = var.email_notifier.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  parallelization_factor             = var.parallelization_factor
  bisect_batch_on_function_error     = true
  report_batch_item_failures         = true
  maximum_retry_attempts             = var.email_notifier.maximum_retry_attempts
  maximum_record_age_in_seconds      = var.maximum_record_age_in_seconds
  on_failure_destination_arn         = module.dlq.on_failure_destination_arn

  # SES on the sender identity and configuration set, the idempotency and rate-limit tables;
  # the DLQ, topic and keys below are generated by stream-consumer.
  additional_policy_json = data.aws_iam_policy_document.consumer["notifier"].json
  dlq_arn                = module.dlq.dlq_arn
  # Read only; the idempotency table's key is granted through DynamoDB in consumers.tf.
  source_kms_key_arn = module.stream.kms_key_arn

  environment_variables = local.notifier_environment

  tags = var.tags
}
