# The whole pipeline in one call: stream -> consumers (consumers.tf: each its own code,
# settings and permissions; the retail stream_processor is one of them) -> their sinks, poison
# records and failed batches (re-read by the hydrate function) -> one DLQ, alarms and a dashboard
# over all of it; optionally the e-mail notifier (email_notifier.tf), sharing the DLQ.
# Every environment in environments/ is this module plus a provider and a backend.

locals {
  metrics_namespace = "StreamPipeline/${var.name}"
  # With the failure bucket, every consumer claim-checks the payloads too large for an SQS
  # message there, as hydrate does, each under a prefix of its own: its role may put objects
  # there and nowhere else (consumers.tf, PutPayloadObjects).
  payload_bucket_environment = var.enable_s3_failure_bucket ? { PAYLOAD_BUCKET = module.dlq.bucket_name } : {}
  claim_check_prefixes = merge(
    { for key, consumer in local.consumers : key => "claim-check/${consumer.name}/" },
    local.email_notifier_enabled ? { notifier = "claim-check/${local.notifier.name}/" } : {},
  )
  claim_check_environment = {
    for key, prefix in local.claim_check_prefixes : key => var.enable_s3_failure_bucket ? merge(local.payload_bucket_environment, { PAYLOAD_KEY_PREFIX = prefix }) : {}
  }
  failure_bucket_arn = var.enable_s3_failure_bucket ? "arn:${local.stream_arn_parts[1]}:s3:::${module.dlq.bucket_name}" : null
  # Every function runs on the dependencies layer's Python and architecture.
  layers        = concat([module.dependencies_layer.arn], var.layers)
  runtime       = module.dependencies_layer.runtime
  architectures = [module.dependencies_layer.architecture]

  # The longest time a failed record can take to reach hydrate, against the stream's retention
  # (checked by retention_period's validation; -1, no age limit, is refused by the variables).
  record_age_limits = merge(
    { for key, consumer in var.consumers : "consumer ${key}" => coalesce(consumer.maximum_record_age_in_seconds, var.maximum_record_age_in_seconds) },
    { "maximum_record_age_in_seconds" = var.maximum_record_age_in_seconds },
  )
  on_failure_deadline = {
    # Time for the on-failure record to reach SNS and hydrate to read the range (a retried batch
    # of up to 15 minutes, bisected halves, SNS delivery), beyond the two configured windows.
    margin_seconds = 3600
    longest_label  = join(", ", [for name, age in local.record_age_limits : "${age} s of ${name}" if age == max(values(local.record_age_limits)...)])
    needed_seconds = max(values(local.record_age_limits)...) + var.hydrate.maximum_event_age_in_seconds + 3600 # margin_seconds
  }
}

module "dependencies_layer" {
  source = "../lambda-layer"

  name     = "${var.name}-dependencies"
  filename = var.dependencies_layer_package
}

module "stream" {
  source = "../kinesis-stream"

  name                = var.name
  stream_mode         = var.stream_mode
  shard_count         = var.shard_count
  retention_period    = var.retention_period
  shard_level_metrics = var.shard_level_metrics
  # A pipe of its own for each consumer with enhanced_fan_out; the notifier always has one.
  consumers = merge(
    { for key, consumer in local.consumers : consumer.efo_consumer_name => {} if consumer.enhanced_fan_out },
    local.email_notifier_enabled ? { (local.notifier.efo_consumer_name) = {} } : {},
  )
  tags = var.tags
}

module "dlq" {
  source = "../hydrating-dlq"

  name     = var.name
  filename = var.hydrate_package

  layers                       = local.layers
  runtime                      = local.runtime
  architectures                = local.architectures
  log_retention_in_days        = var.log_retention_in_days
  powertools_metrics_namespace = local.metrics_namespace
  enable_s3_failure_bucket     = var.enable_s3_failure_bucket
  access_logging               = var.failure_bucket_access_logging
  maximum_event_age_in_seconds = var.hydrate.maximum_event_age_in_seconds
  maximum_retry_attempts       = var.hydrate.maximum_retry_attempts

  source_stream_arns  = [module.stream.stream_arn]
  source_kms_key_arns = [module.stream.kms_key_arn]
  replay_role_arns    = var.replay_role_arns
  # Only the consumers' event source mappings may announce failed batches: one DLQ for the
  # pipeline, whose envelopes name the consumer that failed.
  consumer_role_arns = concat(
    [for key in sort(keys(local.consumers)) : module.consumer[key].role_arn],
    local.email_notifier_enabled ? [module.email_notifier[0].role_arn] : [],
  )

  tags = var.tags
}

module "alarms" {
  source = "../alarms"

  name_prefix     = var.name
  alarm_emails    = var.alarm_emails
  alarm_overrides = var.alarm_overrides

  stream_name                     = module.stream.stream_name
  min_incoming_records_per_period = var.min_incoming_records_per_period
  efo_consumer_names = concat(
    [for key in sort(keys(local.consumers)) : local.consumers[key].efo_consumer_name if local.consumers[key].enhanced_fan_out],
    local.email_notifier_enabled ? [local.notifier.efo_consumer_name] : [],
  )
  consumer_function_names = concat(
    [for key in sort(keys(local.consumers)) : module.consumer[key].function_name],
    local.email_notifier_enabled ? [module.email_notifier[0].function_name] : [],
  )
  hydrate_function_name = module.dlq.hydrate_function_name
  dlq_name              = module.dlq.dlq_name
  results_table_name    = local.results_table_enabled ? aws_dynamodb_table.this[0].name : null

  # Each mapping's DroppedEventCount (stream-consumer enables the EventCount metrics) and each
  # function's Duration against the timeout it is deployed with.
  consumer_event_source_mapping_uuids = merge(
    { for key in sort(keys(local.consumers)) : module.consumer[key].function_name => module.consumer[key].event_source_mapping_uuid },
    local.email_notifier_enabled ? { (module.email_notifier[0].function_name) = module.email_notifier[0].event_source_mapping_uuid } : {},
  )
  function_timeouts = merge(
    { for key in sort(keys(local.consumers)) : module.consumer[key].function_name => local.consumers[key].timeout },
    local.email_notifier_enabled ? { (module.email_notifier[0].function_name) = var.email_notifier.timeout } : {},
    { (module.dlq.hydrate_function_name) = module.dlq.hydrate_timeout },
  )

  # The deadlines the DLQ alarms escalate before: the stream's retention for envelopes whose
  # payload is only in the stream, the queue's own for the rest.
  stream_retention_hours        = var.retention_period
  dlq_message_retention_seconds = module.dlq.dlq_message_retention_seconds

  # From the functions' own outputs: an alarm's dimensions are what the function reports. Every
  # consumer and hydrate report to the pipeline's namespace (consumers.tf sets it, and refuses
  # an environment variable that would change it); one DLQ alarm per consumer service.
  metrics_namespace      = module.dlq.metrics_namespace
  consumer_service_names = distinct([for key in sort(keys(local.consumers)) : module.consumer[key].service_name])
  hydrate_service_name   = module.dlq.hydrate_service_name
  notifier_service_name  = local.email_notifier_enabled ? module.email_notifier[0].service_name : null
  notifier_configuration_set = {
    name                     = local.email_notifier_enabled ? aws_sesv2_configuration_set.notifier[0].configuration_set_name : null
    bounce_rate_threshold    = local.email_notifier_enabled ? var.email_notifier.configuration_set.bounce_rate_alarm_threshold : null
    complaint_rate_threshold = local.email_notifier_enabled ? var.email_notifier.configuration_set.complaint_rate_alarm_threshold : null
  }

  tags = var.tags
}
