# Alarms and dashboard for a whole pipeline: the orders stream with an
# enhanced fan-out consumer, the stream processor and e-mail notifier
# functions, the hydrate function and the DLQ. Production expects at least
# 500 orders every 5 minutes, so a silent stream raises an alarm too.
module "alarms" {
  source = "../.."

  name_prefix = "example-orders"

  alarm_emails = [
    "streaming-oncall@example.com",
    "orders-team@example.com",
  ]

  # An incident tool's HTTPS intake as well as e-mail.
  subscriptions = [
    {
      protocol = "https"
      endpoint = "https://alerts.example.com/hooks/cloudwatch"
    },
  ]

  stream_name        = "example-orders"
  efo_consumer_names = ["stream-processor"]

  consumer_function_names = [
    "example-orders-stream-processor",
    "example-orders-email-notifier",
  ]

  # The functions' POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE, as
  # the pipeline module named "example-orders" sets them. Where the functions are
  # in the same configuration, pass the modules' service_name,
  # hydrate_service_name and metrics_namespace outputs instead of typing them.
  consumer_service_name = "stream_processor"
  hydrate_function_name = "example-orders-hydrate"
  hydrate_service_name  = "hydrate"
  metrics_namespace     = "StreamPipeline/example-orders"

  dlq_name = "example-orders-dlq"

  # What the pipeline module passes itself: each function's timeout as deployed (the duration
  # alarm fires at 80 % of it), the results table, and the retention the deadline alarms
  # escalate before (a 7-day stream, the DLQ's 14 days).
  function_timeouts = {
    example-orders-stream-processor = 60
    example-orders-email-notifier   = 60
  }
  results_table_name            = "example-orders-results"
  stream_retention_hours        = 168
  dlq_message_retention_seconds = 1209600

  min_incoming_records_per_period = 500

  alarm_overrides = {
    # Lambda retries throttled batches without losing them: here a consumer
    # must be throttled for a quarter of an hour before anyone is paged.
    consumer-throttles = {
      period              = 300
      evaluation_periods  = 3
      datapoints_to_alarm = 3
    }
  }

  tags = {
    example = "complete"
  }
}
