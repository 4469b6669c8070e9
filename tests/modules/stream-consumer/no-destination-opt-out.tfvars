# The explicit opt-out: no on-failure destination, so the mapping has no
# destination_config and the role no destination permission; without mapping metrics.
name    = "best-effort-metrics"
handler = "metrics.app.lambda_handler"
layers  = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]
package = {
  filename         = "../../build/stream_processor.zip"
  source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
}

event_source_arn                = "arn:aws:kinesis:eu-west-1:111122223333:stream/clickstream"
allow_no_on_failure_destination = true

# No metric groups either: the mapping then has no metrics_config block.
mapping_metrics = []
