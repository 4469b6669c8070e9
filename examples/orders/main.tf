# An orders stream and its validator, on this library's pipeline: a root module a team copies.
# The team's part is the consumers entry below, orders.tf (its table) and functions/ (its
# code); the stream, the hydrating DLQ and the alarms are the pipeline's.
# `make local-up ROOT=examples/orders FUNCTIONS=examples/orders/functions` runs it locally.

module "pipeline" {
  source = "../../modules/pipeline"

  name = var.name
  # Built by `make package` in a checkout of the same tag (or the release assets).
  hydrate_package            = "${path.root}/../../build/hydrate.zip"
  dependencies_layer_package = "${path.root}/../../build/dependencies-python3.12-arm64.zip"

  consumers = {
    orders = {
      package    = { source_dir = "${path.module}/functions" } # zipped with the consumer kit
      handler    = "orders_validator.app.lambda_handler"
      table_name = aws_dynamodb_table.orders.name
    }
  }

  alarm_emails = var.alarm_emails
}
