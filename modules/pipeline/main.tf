# The whole pipeline in one call: stream -> stream_processor -> results table, poison records and
# failed batches (re-read by the hydrate function) -> DLQ, alarms and a dashboard over all of it;
# optionally a second consumer, the e-mail notifier (email_notifier.tf), sharing the DLQ.
# Every environment in environments/ is this module plus a provider and a backend.

locals {
  # Where the consumer reads: its own enhanced fan-out pipe, or shared polling.
  efo_consumer_name = "${var.name}-processor"
  event_source_arn  = var.use_enhanced_fan_out ? module.stream.consumer_arns[local.efo_consumer_name] : module.stream.stream_arn
  metrics_namespace = "StreamPipeline/${var.name}"
  # With the failure bucket, every consumer claim-checks the payloads too large for an SQS
  # message there, as hydrate does (consumer_policy_json grants the PutObject).
  payload_bucket_environment = var.enable_s3_failure_bucket ? { PAYLOAD_BUCKET = module.dlq.bucket_name } : {}
  # Every function runs on the dependencies layer's Python and architecture.
  layers        = concat([module.dependencies_layer.arn], var.layers)
  runtime       = module.dependencies_layer.runtime
  architectures = [module.dependencies_layer.architecture]
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
  # The processor's pipe when use_enhanced_fan_out; the notifier always has its own.
  consumers = merge(
    var.use_enhanced_fan_out ? { (local.efo_consumer_name) = {} } : {},
    local.email_notifier_enabled ? { (local.notifier.efo_consumer_name) = {} } : {},
  )
  tags = var.tags
}

module "stream_processor" {
  source = "../stream-consumer"

  name    = "${var.name}-processor"
  handler = "stream_processor.app.lambda_handler"
  package = { filename = var.stream_processor_package }

  layers                         = local.layers
  runtime                        = local.runtime
  architectures                  = local.architectures
  memory_size                    = var.consumer_memory_size
  timeout                        = var.consumer_timeout
  reserved_concurrent_executions = var.consumer_reserved_concurrent_executions
  log_retention_in_days          = var.log_retention_in_days

  event_source_arn                   = local.event_source_arn
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_in_seconds
  parallelization_factor             = var.parallelization_factor
  maximum_retry_attempts             = var.maximum_retry_attempts
  maximum_record_age_in_seconds      = var.maximum_record_age_in_seconds
  on_failure_destination_arn         = module.dlq.on_failure_destination_arn

  # sns:Publish comes from the destination ARN; this adds the DLQ key's use.
  additional_policy_json = module.dlq.consumer_policy_json
  dlq_arn                = module.dlq.dlq_arn
  dynamodb_table_arns    = [aws_dynamodb_table.this.arn]
  kms_key_arns           = [module.stream.kms_key_arn, module.results_key.key_arn]

  environment_variables = merge(
    {
      TABLE_NAME                   = aws_dynamodb_table.this.name
      DLQ_URL                      = module.dlq.dlq_url
      POWERTOOLS_SERVICE_NAME      = "stream_processor"
      POWERTOOLS_METRICS_NAMESPACE = local.metrics_namespace
    },
    local.payload_bucket_environment,
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

  source_stream_arns  = [module.stream.stream_arn]
  source_kms_key_arns = [module.stream.kms_key_arn]
  # Only the consumers' event source mappings may announce failed batches: one DLQ for the
  # pipeline, whose envelopes name the consumer that failed.
  consumer_role_arns = concat(
    [module.stream_processor.role_arn],
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
    var.use_enhanced_fan_out ? [local.efo_consumer_name] : [],
    local.email_notifier_enabled ? [local.notifier.efo_consumer_name] : [],
  )
  consumer_function_names = concat(
    [module.stream_processor.function_name],
    local.email_notifier_enabled ? [module.email_notifier[0].function_name] : [],
  )
  hydrate_function_name = module.dlq.hydrate_function_name
  dlq_name              = module.dlq.dlq_name

  # From the functions' own outputs: an alarm's dimensions are what the function reports.
  metrics_namespace     = module.stream_processor.metrics_namespace
  consumer_service_name = module.stream_processor.service_name
  hydrate_service_name  = module.dlq.hydrate_service_name
  notifier_service_name = local.email_notifier_enabled ? module.email_notifier[0].service_name : null

  tags = var.tags
}
