# The e-mail notifier next to an EFO processor: an existing domain identity and configuration
# set, only purchase events.
name                       = "orders"
hydrate_package            = "../../build/hydrate.zip"
dependencies_layer_package = "../../build/dependencies-python3.12-arm64.zip"
email_notifier_package     = "../../build/email_notifier.zip"
alarm_emails               = ["oncall@example.com"]

email_notifier = {
  sender_address         = "notifications@example.com"
  identity               = "example.com"
  configuration_set_name = "orders-mail"
}

consumers = {
  processor = {
    package               = { filename = "../../build/stream_processor.zip" }
    handler               = "stream_processor.app.lambda_handler"
    write_results_table   = true
    environment_variables = { POWERTOOLS_SERVICE_NAME = "stream_processor" }
  }
}
