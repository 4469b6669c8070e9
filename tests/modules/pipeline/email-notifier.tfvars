# The e-mail notifier next to an EFO processor: an existing domain identity, only purchase
# events, recipients at example.com.
name                       = "orders"
hydrate_package            = "../../build/hydrate.zip"
dependencies_layer_package = "../../build/dependencies-python3.12-arm64.zip"
email_notifier_package     = "../../build/email_notifier.zip"
alarm_emails               = ["oncall@example.com"]

email_notifier = {
  sender_address = "notifications@example.com"
  identity       = "example.com"
  recipients     = { allowed_domains = ["example.com"] }
}

consumers = {
  processor = {
    package               = { filename = "../../build/stream_processor.zip" }
    handler               = "stream_processor.app.lambda_handler"
    write_results_table   = true
    environment_variables = { POWERTOOLS_SERVICE_NAME = "stream_processor" }
  }
}
