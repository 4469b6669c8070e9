# The pipeline as the environments deploy it, with the production-like settings.
module "pipeline" {
  source = "../.."

  name            = "orders"
  hydrate_package = "${path.module}/../../../../build/hydrate.zip"

  dependencies_layer_package = "${path.module}/../../../../build/dependencies-python3.12-arm64.zip"

  consumers = {
    # The retail processor from its `make package` zip, writing to the results table.
    processor = {
      package             = { filename = "${path.module}/../../../../build/stream_processor.zip" }
      handler             = "stream_processor.app.lambda_handler"
      write_results_table = true
      environment_variables = {
        POWERTOOLS_SERVICE_NAME = "stream_processor"
      }
    }
    # A team's own consumer from a source folder (zipped at apply with the runtime and kit):
    # purchases only, polling, small batches, one extra permission.
    audit = {
      package          = { source_dir = "${path.module}/consumers/order_audit" }
      handler          = "app.lambda_handler"
      enhanced_fan_out = false
      filter_criteria  = [jsonencode({ data = { eventType = ["purchase"] } })]
      batch_size       = 25
      memory_size      = 128
      environment_variables = {
        MAX_RECORD_BYTES = "262144"
      }
      iam_statements = [{
        sid       = "PublishAuditEvents"
        actions   = ["events:PutEvents"]
        resources = ["arn:aws:events:eu-west-1:111122223333:event-bus/audit"]
      }]
    }
  }

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
