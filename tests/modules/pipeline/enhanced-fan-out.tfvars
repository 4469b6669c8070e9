# Module defaults: the consumer reads through its own EFO consumer.
name                       = "orders"
hydrate_package            = "../../build/hydrate.zip"
dependencies_layer_package = "../../build/dependencies-python3.12-arm64.zip"
alarm_emails               = ["oncall@example.com"]

consumers = {
  processor = {
    package               = { filename = "../../build/stream_processor.zip" }
    handler               = "stream_processor.app.lambda_handler"
    write_results_table   = true
    environment_variables = { POWERTOOLS_SERVICE_NAME = "stream_processor" }
  }
}
