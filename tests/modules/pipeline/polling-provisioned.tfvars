# Shared polling on a provisioned stream, a dev-like setup without deletion protection.
name                              = "orders-dev"
hydrate_package                   = "../../build/hydrate.zip"
dependencies_layer_package        = "../../build/dependencies-python3.12-arm64.zip"
stream_mode                       = "PROVISIONED"
shard_count                       = 2
retention_period                  = 24
maximum_record_age_in_seconds     = 3600
results_table_deletion_protection = false
log_retention_in_days             = 30
enable_s3_failure_bucket          = true

consumers = {
  processor = {
    package               = { filename = "../../build/stream_processor.zip" }
    handler               = "stream_processor.app.lambda_handler"
    write_results_table   = true
    enhanced_fan_out      = false
    environment_variables = { POWERTOOLS_SERVICE_NAME = "stream_processor" }
  }
}
