# Module defaults: the consumer reads through its own EFO consumer.
name                     = "orders"
stream_processor_package = "../../build/stream_processor.zip"
hydrate_package          = "../../build/hydrate.zip"
alarm_emails             = ["oncall@example.com"]
