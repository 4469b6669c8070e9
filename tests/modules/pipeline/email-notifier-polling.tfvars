# The e-mail notifier next to a polling processor (it keeps its own EFO consumer), creating its
# SES identity, without deletion protection (dev-like).
name                              = "orders-dev"
hydrate_package                   = "../../build/hydrate.zip"
dependencies_layer_package        = "../../build/dependencies-python3.12-arm64.zip"
email_notifier_package            = "../../build/email_notifier.zip"
retention_period                  = 24
maximum_record_age_in_seconds     = 3600
results_table_deletion_protection = false

email_notifier = {
  sender_address                    = "notifications@dev.example.com"
  create_identity                   = true
  batch_size                        = 25
  maximum_retry_attempts            = 3
  idempotency_expires_after_seconds = 1296000
  recipients                        = { allowed_domains = ["dev.example.com"], mailbox_simulator = "success" }
  rate_limit                        = { max_emails = 20, window_seconds = 600 }
}

consumers = {
  processor = {
    package               = { filename = "../../build/stream_processor.zip" }
    handler               = "stream_processor.app.lambda_handler"
    write_results_table   = true
    enhanced_fan_out      = false
    environment_variables = { POWERTOOLS_SERVICE_NAME = "stream_processor" }
  }
}
