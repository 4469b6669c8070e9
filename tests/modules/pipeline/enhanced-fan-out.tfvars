# Module defaults: the consumer reads through its own EFO consumer.
name                       = "orders"
stream_processor_package   = "../../build/stream_processor.zip"
hydrate_package            = "../../build/hydrate.zip"
dependencies_layer_package = "../../build/dependencies-python3.12-arm64.zip"
alarm_emails               = ["oncall@example.com"]
