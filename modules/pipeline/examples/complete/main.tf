# The pipeline as the environments deploy it, with the production-like settings.
module "pipeline" {
  source = "../.."

  name                     = "orders"
  stream_processor_package = "${path.module}/../../../../build/stream_processor.zip"
  hydrate_package          = "${path.module}/../../../../build/hydrate.zip"

  dependencies_layer_package = "${path.module}/../../../../build/dependencies-python3.12-arm64.zip"

  retention_period                = 168
  alarm_emails                    = ["streaming-oncall@example.com"]
  min_incoming_records_per_period = 100

  tags = {
    example = "pipeline/complete"
  }
}

output "stream_name" {
  description = "Name of the stream."
  value       = module.pipeline.stream_name
}
