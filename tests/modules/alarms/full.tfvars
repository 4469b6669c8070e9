# Every subject given: stream with one enhanced fan-out consumer, two consumer
# functions (their mappings' UUIDs and timeouts), the DLQ and both retention
# deadlines, the results table, the hydrate function and both Powertools
# services; two e-mail recipients, an https endpoint, an expected minimum
# throughput and one override. The module creates the topic's KMS key.
name_prefix = "orders"

alarm_emails = [
  "oncall@example.com",
  "streaming-team@example.com",
]

subscriptions = [
  {
    protocol = "https"
    endpoint = "https://events.pagerduty.com/integration/0123456789abcdef/enqueue"
  },
]

stream_name             = "orders"
efo_consumer_names      = ["orders-processor"]
consumer_function_names = ["orders-processor", "orders-email-notifier"]
consumer_service_name   = "orders-processor"
hydrate_function_name   = "orders-hydrate"
hydrate_service_name    = "orders-hydrate"
dlq_name                = "orders-dlq"
metrics_namespace       = "StreamPipeline"
results_table_name      = "orders-results"

consumer_event_source_mapping_uuids = {
  orders-processor      = "a1b2c3d4-5678-90ab-cdef-111111111111"
  orders-email-notifier = "a1b2c3d4-5678-90ab-cdef-222222222222"
}
function_timeouts = {
  orders-processor      = 60
  orders-email-notifier = 30
}
stream_retention_hours        = 168
dlq_message_retention_seconds = 1209600

min_incoming_records_per_period = 100

alarm_overrides = {
  # Catch-up after a deploy routinely takes a few minutes here.
  consumer-iterator-age = {
    threshold           = 120000
    evaluation_periods  = 10
    datapoints_to_alarm = 8
  }
}

tags = {
  team = "streaming"
}
