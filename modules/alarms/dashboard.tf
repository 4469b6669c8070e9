# One picture of the pipeline's health, in the order records flow: ingest,
# consumer lag, consumer failures, dead letters, hydration. A widget exists
# only when its subject is given, and lines mark the thresholds of the alarms
# that watch the same metric.

# Read from the provider configuration: no AWS call, so the dashboard body is
# known at plan time (the topic ARN, which also names the Region, is not).
data "aws_region" "current" {}

locals {
  alarm_ids_created = distinct([for alarm in values(local.alarms) : alarm.id])

  # Each metric row is [namespace, metric, dimension, value, ..., options].
  # Rows and threshold lines are JSON strings here so that every widget has
  # the same type whatever its rows hold; they are decoded once, below.
  widget_specs = [
    {
      include = var.stream_name != null
      title   = "Ingest: records and bytes put on ${coalesce(var.stream_name, "-")}"
      stat    = "Sum"
      # The period of stream-incoming-records-low, so its line compares like with like.
      period = local.alarm_settings["stream-incoming-records-low"].period
      metrics = jsonencode(concat(
        [for stream in compact([var.stream_name]) : ["AWS/Kinesis", "IncomingRecords", "StreamName", stream, { label = "IncomingRecords" }]],
        [for stream in compact([var.stream_name]) : ["AWS/Kinesis", "IncomingBytes", "StreamName", stream, { label = "IncomingBytes", yAxis = "right" }]],
      ))
      thresholds = ["stream-incoming-records-low"]
    },
    {
      include = var.stream_name != null
      title   = "Ingest: failed records and throttling"
      stat    = "Sum"
      period  = 60
      metrics = jsonencode(concat(
        [for stream in compact([var.stream_name]) : ["AWS/Kinesis", "PutRecords.FailedRecords", "StreamName", stream, { label = "PutRecords.FailedRecords" }]],
        [for stream in compact([var.stream_name]) : ["AWS/Kinesis", "WriteProvisionedThroughputExceeded", "StreamName", stream, { label = "Write throttled" }]],
        [for stream in compact([var.stream_name]) : ["AWS/Kinesis", "ReadProvisionedThroughputExceeded", "StreamName", stream, { label = "Read throttled" }]],
      ))
      thresholds = []
    },
    {
      include = var.stream_name != null || length(var.consumer_function_names) > 0
      title   = "Consumer lag: iterator age (ms)"
      stat    = "Maximum"
      period  = 60
      metrics = jsonencode(concat(
        [for stream in compact([var.stream_name]) : ["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", "StreamName", stream, { label = "Stream (polling consumers)" }]],
        [for name in var.consumer_function_names : ["AWS/Lambda", "IteratorAge", "FunctionName", name, { label = name }]],
        [for consumer in var.stream_name == null ? [] : var.efo_consumer_names : ["AWS/Kinesis", "SubscribeToShardEvent.MillisBehindLatest", "StreamName", var.stream_name, "ConsumerName", consumer, { label = "EFO ${consumer}" }]],
      ))
      thresholds = ["consumer-iterator-age", "stream-iterator-age", "efo-consumer-lag"]
    },
    {
      include = length(var.consumer_function_names) > 0
      title   = "Consumers: errors and throttles"
      stat    = "Sum"
      period  = 60
      metrics = jsonencode(concat(
        [for name in var.consumer_function_names : ["AWS/Lambda", "Errors", "FunctionName", name, { label = "${name} errors" }]],
        [for name in var.consumer_function_names : ["AWS/Lambda", "Throttles", "FunctionName", name, { label = "${name} throttles" }]],
      ))
      thresholds = []
    },
    {
      # DroppedEventCount is left out: its dimension, the mapping's UUID, is known only after
      # apply, and the body must stay known at plan time. Its alarm watches it.
      include = length(var.consumer_function_names) > 0 || var.hydrate_function_name != null
      title   = "Loss signals: failed on-failure deliveries, payloads omitted from the DLQ"
      stat    = "Sum"
      period  = 60
      metrics = jsonencode(concat(
        [for name in keys(local.alarm_subjects["consumer-destination-delivery-failures"]) : ["AWS/Lambda", "DestinationDeliveryFailures", "FunctionName", name, { label = "${name} DestinationDeliveryFailures" }]],
        [for service in keys(local.alarm_subjects["dlq-payloads-omitted"]) : [local.metrics_namespace, "DlqPayloadsOmitted", "service", service, { label = "${service} DlqPayloadsOmitted" }]],
      ))
      thresholds = []
    },
    {
      include = var.consumer_service_name != null || length(var.consumer_service_names) > 0
      title   = "Dead letters: records the consumer sent to the DLQ"
      stat    = "Sum"
      period  = 60
      metrics = jsonencode([
        for service in concat(compact([var.consumer_service_name]), var.consumer_service_names) : [local.metrics_namespace, var.consumer_dlq_metric_name, "service", service, { label = service == var.consumer_service_name ? var.consumer_dlq_metric_name : "${service} ${var.consumer_dlq_metric_name}" }]
      ])
      thresholds = []
    },
    {
      include = var.dlq_name != null
      title   = "DLQ: messages waiting"
      stat    = "Maximum"
      period  = 60
      metrics = jsonencode([
        for queue in compact([var.dlq_name]) : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue, { label = queue }]
      ])
      thresholds = []
    },
    {
      include = var.dlq_name != null
      title   = "DLQ: age of the oldest message (s)"
      stat    = "Maximum"
      period  = local.alarm_settings["dlq-oldest-message-age"].period
      metrics = jsonencode([
        for queue in compact([var.dlq_name]) : ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue, { label = queue }]
      ])
      thresholds = ["dlq-oldest-message-age"]
    },
    {
      include = var.hydrate_function_name != null || var.hydrate_service_name != null
      title   = "Hydrate: payloads unavailable (lost) and errors"
      stat    = "Sum"
      period  = 60
      metrics = jsonencode(concat(
        [for service in compact([var.hydrate_service_name]) : [local.metrics_namespace, var.hydrate_payload_unavailable_metric_name, "service", service, { label = "${var.hydrate_payload_unavailable_metric_name} (data loss)", color = "#d62728" }]],
        [for name in compact([var.hydrate_function_name]) : ["AWS/Lambda", "Errors", "FunctionName", name, { label = "${name} errors" }]],
      ))
      thresholds = []
    },
    {
      include = var.notifier_service_name != null
      title   = "Notifier: e-mails that could not be sent"
      stat    = "Sum"
      period  = 60
      metrics = jsonencode([
        for service in compact([var.notifier_service_name]) : [local.metrics_namespace, var.notifier_failed_metric_name, "service", service, { label = var.notifier_failed_metric_name }]
      ])
      thresholds = ["notifier-emails-failed"]
    },
  ]

  metric_widgets = [for spec in local.widget_specs : spec if spec.include]

  widget_thresholds = [
    for spec in local.metric_widgets : [
      for id in spec.thresholds : {
        label = id
        value = local.alarm_settings[id].threshold
      } if contains(local.alarm_ids_created, id)
    ]
  ]

  dashboard_widgets = concat(
    [
      {
        type   = "text"
        x      = 0
        y      = 0
        width  = 24
        height = 2
        properties = {
          markdown = "## ${var.name_prefix}: stream pipeline health\nAlarms named `${var.name_prefix}-*` notify SNS topic `${local.topic_name}`. Each alarm's description says what to check first; the runbook (docs/runbook.md) has one section per alarm id."
        }
      }
    ],
    [
      for index, spec in local.metric_widgets : {
        type   = "metric"
        x      = (index % 2) * 12
        y      = 2 + floor(index / 2) * 6
        width  = 12
        height = 6
        # Threshold lines only where an alarm watches the widget's metric; a
        # JSON string again, so both shapes of properties have one type.
        properties = merge(
          {
            title   = spec.title
            region  = data.aws_region.current.id
            view    = "timeSeries"
            stacked = false
            stat    = spec.stat
            period  = spec.period
            metrics = jsondecode(spec.metrics)
            yAxis = {
              left = { min = 0 }
            }
          },
          jsondecode(length(local.widget_thresholds[index]) == 0 ? "{}" : jsonencode({
            annotations = { horizontal = local.widget_thresholds[index] }
          })),
        )
      }
    ],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard && length(local.metric_widgets) > 0 ? 1 : 0

  dashboard_name = "${var.name_prefix}-stream-pipeline"
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
