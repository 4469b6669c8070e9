# The consumers: one function and event source mapping per entry of var.consumers, each with its
# own code (a prebuilt zip or a source folder, stream-consumer's package), handler, read path
# (its own enhanced fan-out consumer, or shared polling), filter, batch settings and extra
# permissions. Whatever a team's consumer is, the pipeline wires it the same way:
#
# - the shared hydrating DLQ: DLQ_URL and sqs:SendMessage for poison records; the on-failure
#   topic as the mapping's destination, whose policy admits its role (module.dlq
#   consumer_role_arns); with the failure bucket, PAYLOAD_BUCKET and PAYLOAD_KEY_PREFIX
#   (claim-check/<function name>/) and s3:PutObject under that prefix only;
# - the pipeline's metrics namespace (POWERTOOLS_METRICS_NAMESPACE); its own alarms (errors,
#   iterator age, throttles, records sent to the DLQ, EFO lag) from its module's outputs;
# - TABLE_NAME and write access when it writes to the results table or a table of its own.
#
# The consumer kit's environment contract: DLQ_URL and DLQ_MAC_KEY_ARN (always), PAYLOAD_BUCKET and
# PAYLOAD_KEY_PREFIX (with the failure bucket), TABLE_NAME (with a table), MAX_RECORD_BYTES (optional, the consumer's own
# environment_variables); POWERTOOLS_SERVICE_NAME defaults to the function's name.

locals {
  consumers = {
    for key, consumer in var.consumers : key => merge(consumer, {
      name              = "${var.name}-${key}"
      efo_consumer_name = "${var.name}-${key}"
      # Unset settings follow the pipeline-wide ones (shared with the e-mail notifier).
      maximum_batching_window_in_seconds = consumer.maximum_batching_window_in_seconds != null ? consumer.maximum_batching_window_in_seconds : var.maximum_batching_window_in_seconds
      maximum_record_age_in_seconds      = consumer.maximum_record_age_in_seconds != null ? consumer.maximum_record_age_in_seconds : var.maximum_record_age_in_seconds
      parallelization_factor             = consumer.parallelization_factor != null ? consumer.parallelization_factor : var.parallelization_factor
    })
  }

  results_table_enabled = anytrue([for consumer in values(var.consumers) : consumer.write_results_table])

  # The services that use the hydrating DLQ's key for a consumer (kms:ViaService).
  dlq_key_via_services = [
    for service in concat(["sns", "sqs"], var.enable_s3_failure_bucket ? ["s3"] : []) :
    "${service}.${data.aws_region.current.id}.${data.aws_partition.current.dns_suffix}"
  ]
}

# Each consumer's own statements (iam_statements; the e-mail notifier's, keyed "notifier", a
# name no consumer may take), on top of what stream-consumer generates (stream or EFO read, DLQ,
# on-failure topic, tables, keys), and what the hydrating DLQ asks of a consumer that publishes
# to its topic: its key (topic, DLQ, bucket). Not module.dlq's consumer_policy_json: that one
# also grants an S3 on-failure destination's PutObject on the whole bucket and ListBucket, which
# a consumer publishing to the topic does not need.
data "aws_iam_policy_document" "consumer" {
  for_each = merge(
    { for key, consumer in local.consumers : key => consumer.iam_statements },
    local.email_notifier_enabled ? { notifier = local.notifier_policy_statements } : {},
  )

  # The sid of module.dlq's: the consumers' kms_key_arns (UseKeys) never replace it. The key of
  # the topic (the mapping publishes there), the DLQ (poison records) and, with it, the bucket
  # (claim-checks): usable through those services only.
  statement {
    sid       = "UseHydratingDlqKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [module.dlq.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = local.dlq_key_via_services
    }
  }

  # The notifier's idempotency table is not one of stream-consumer's dynamodb_table_arns (it
  # reads and deletes there too, UseIdempotencyTable): its key, through DynamoDB only.
  dynamic "statement" {
    for_each = each.key == "notifier" ? [module.notifier_key[0].key_arn] : []

    content {
      sid       = "UseIdempotencyTableKey"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["dynamodb.${data.aws_region.current.id}.${data.aws_partition.current.dns_suffix}"]
      }
    }
  }

  # The kit signs each envelope it sends to the DLQ (DLQ_MAC_KEY_ARN); the key's policy admits
  # exactly the consumer roles (module.dlq consumer_role_arns).
  statement {
    sid       = "SignDlqEnvelopes"
    effect    = "Allow"
    actions   = ["kms:GenerateMac"]
    resources = [module.dlq.mac_key_arn]
  }

  # The claim-check: the consumer's own prefix, written only (the kit never reads, lists or
  # deletes); the bucket's SSE-KMS bucket key is the hydrating DLQ's key above.
  dynamic "statement" {
    for_each = var.enable_s3_failure_bucket ? [local.claim_check_prefixes[each.key]] : []

    content {
      sid       = "PutPayloadObjects"
      effect    = "Allow"
      actions   = ["s3:PutObject"]
      resources = ["${local.failure_bucket_arn}/${statement.value}*"]
    }
  }

  # Encrypt-only on the sensitive fields' key (results_table.tf): the consumer cannot read back
  # what it stored.
  dynamic "statement" {
    for_each = local.field_encryption_enabled && try(local.consumers[each.key].write_results_table, false) ? [module.field_key[0].key_arn] : []

    content {
      sid       = "EncryptSensitiveFields"
      effect    = "Allow"
      actions   = ["kms:GenerateDataKey"]
      resources = [statement.value]

      dynamic "condition" {
        for_each = local.field_encryption_conditions

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }

  dynamic "statement" {
    for_each = each.value

    content {
      sid       = statement.value.sid
      effect    = "Allow"
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

module "consumer" {
  source   = "../stream-consumer"
  for_each = local.consumers

  name        = each.value.name
  description = each.value.description
  handler     = each.value.handler
  package     = each.value.package

  layers                         = local.layers
  runtime                        = local.runtime
  architectures                  = local.architectures
  memory_size                    = each.value.memory_size
  timeout                        = each.value.timeout
  reserved_concurrent_executions = each.value.reserved_concurrent_executions
  log_retention_in_days          = var.log_retention_in_days

  event_source_arn                   = each.value.enhanced_fan_out ? module.stream.consumer_arns[each.value.efo_consumer_name] : module.stream.stream_arn
  filter_criteria                    = each.value.filter_criteria
  batch_size                         = each.value.batch_size
  maximum_batching_window_in_seconds = each.value.maximum_batching_window_in_seconds
  parallelization_factor             = each.value.parallelization_factor
  maximum_retry_attempts             = each.value.maximum_retry_attempts
  maximum_record_age_in_seconds      = each.value.maximum_record_age_in_seconds
  tumbling_window_in_seconds         = each.value.tumbling_window_in_seconds
  window_aware                       = each.value.window_aware
  bisect_batch_on_function_error     = true
  report_batch_item_failures         = true
  on_failure_destination_arn         = module.dlq.on_failure_destination_arn

  additional_policy_json = data.aws_iam_policy_document.consumer[each.key].json
  dlq_arn                = module.dlq.dlq_arn
  dynamodb_table_arns = concat(
    each.value.write_results_table ? [aws_dynamodb_table.this[0].arn] : [],
    each.value.table_name == null ? [] : ["${local.dynamodb_arn_prefix}:table/${each.value.table_name}"],
  )
  # The stream's key is read only (kms:Decrypt via Kinesis); the others are written with.
  source_kms_key_arn = module.stream.kms_key_arn
  kms_key_arns = concat(
    each.value.write_results_table ? [module.results_key[0].key_arn] : [],
    each.value.kms_key_arns,
  )

  # The consumer's own variables first: what the pipeline sets cannot be overridden (the
  # variable's validation refuses those names).
  environment_variables = merge(
    each.value.environment_variables,
    {
      DLQ_URL                      = module.dlq.dlq_url
      DLQ_MAC_KEY_ARN              = module.dlq.mac_key_arn
      POWERTOOLS_METRICS_NAMESPACE = local.metrics_namespace
    },
    each.value.write_results_table ? merge({ TABLE_NAME = aws_dynamodb_table.this[0].name }, local.field_encryption_environment) : {},
    # By name, known at plan time: whether TABLE_NAME is set must not wait for an ARN that
    # only apply knows (the function's service name, which the alarms key on, comes from this map).
    each.value.table_name == null ? {} : { TABLE_NAME = each.value.table_name },
    local.claim_check_environment[each.key],
  )

  tags = var.tags
}

# Before consumers: the built-in processor was module.stream_processor, always with the results
# table. The "processor" entry the environments pass keeps its resources (a state without such an
# entry plans the old processor's destruction).
moved {
  from = module.stream_processor
  to   = module.consumer["processor"]
}

moved {
  from = aws_dynamodb_table.this
  to   = aws_dynamodb_table.this[0]
}

moved {
  from = module.results_key
  to   = module.results_key[0]
}
