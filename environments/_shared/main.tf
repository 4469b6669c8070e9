# The one composition every environment deploys. Each environment folder links this file,
# fraud.tf, variables.tf, outputs.tf and versions.tf from environments/_shared (so they cannot
# drift) and adds its own provider, backend and terraform.tfvars.

module "pipeline" {
  source = "../../modules/pipeline"

  name            = "${var.project}-${var.environment}"
  hydrate_package = "${path.root}/../../build/hydrate.zip"
  # `make package` builds it for the functions' Python (.python-version) and architecture.
  dependencies_layer_package = "${path.root}/../../build/dependencies-python3.12-arm64.zip"

  stream_mode                     = var.stream_mode
  shard_count                     = var.shard_count
  retention_period                = var.retention_period
  min_incoming_records_per_period = var.min_incoming_records_per_period

  parallelization_factor        = var.parallelization_factor
  maximum_record_age_in_seconds = var.maximum_record_age_in_seconds
  log_retention_in_days         = var.log_retention_in_days

  # The retail processor (functions/stream_processor): enriched events into the results table.
  # A team's own consumer is one more entry here, e.g.
  #   audit = { package = { source_dir = "${path.root}/../../consumers/audit" }, handler = "app.lambda_handler" }
  consumers = {
    processor = {
      package             = { filename = "${path.root}/../../build/stream_processor.zip" }
      handler             = "stream_processor.app.lambda_handler"
      enhanced_fan_out    = var.use_enhanced_fan_out
      batch_size          = var.batch_size
      memory_size         = var.consumer_memory_size
      write_results_table = true
      # The service dimension its metrics, dashboards and alarms have always used.
      environment_variables = { POWERTOOLS_SERVICE_NAME = "stream_processor" }
    }
    fraud    = module.fraud.consumer    # fraud.tf
    trending = module.trending.consumer # windowed analytics (trending.tf)
  }

  deletion_protection               = var.deletion_protection
  results_table_deletion_protection = var.results_table_deletion_protection
  enable_s3_failure_bucket          = var.enable_s3_failure_bucket
  failure_bucket_access_logging     = var.failure_bucket_access_logging
  # Who may read the DLQ (deny by default): the operators' replay role (docs/replay.md).
  replay_role_arns = var.replay_role_arns

  alarm_emails    = var.alarm_emails
  alarm_overrides = var.alarm_overrides

  email_notifier         = var.email_notifier
  email_notifier_package = "${path.root}/../../build/email_notifier.zip"
}
