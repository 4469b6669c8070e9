locals {
  # Every alarm the module can create, by id (the id is also the anchor in
  # docs/runbook.md and the key of alarm_overrides; keep the list in the
  # alarm_overrides validation in step).
  #
  # treat_missing_data says what "no datapoint" means for each metric:
  # - notBreaching for counters of bad events (errors, throttles, failed
  #   puts, records sent to the DLQ, lost payloads): Lambda, Kinesis and
  #   Powertools publish nothing when nothing happened, so silence is good news.
  # - missing for the iterator ages: Lambda publishes IteratorAge only when it
  #   invokes the function, and the stream's GetRecords metrics exist only while
  #   someone polls, so silence is either an idle stream or a stopped consumer.
  #   The alarm then goes to INSUFFICIENT_DATA ("don't know"), not OK;
  #   stream-incoming-records-low and efo-consumer-lag are the alarms that turn
  #   a silence into a notification.
  # - breaching where silence itself is the failure: an enhanced fan-out
  #   subscription gets an event every few seconds even from an idle stream,
  #   and stream-incoming-records-low is only enabled where traffic is expected.
  # - ignore for the DLQ gauges: SQS stops publishing for a queue nobody has
  #   touched for six hours, and such a gap must neither resolve an alarm (and
  #   mail an all-clear) while messages may still wait, nor raise one.
  alarm_catalog = {
    consumer-errors = {
      namespace           = "AWS/Lambda"
      metric_name         = "Errors"
      statistic           = "Sum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 1
      treat_missing_data  = "notBreaching"
      summary             = "The consumer function failed an invocation: its batch is being retried (and bisected) and the shard is blocked behind it."
      check_first         = "the function's log group for the exception, then whether records reach the DLQ."
    }
    consumer-iterator-age = {
      namespace           = "AWS/Lambda"
      metric_name         = "IteratorAge"
      statistic           = "Maximum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 60000
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 5
      treat_missing_data  = "missing"
      summary             = "The consumer function is falling behind the stream: the records it receives are old, and unread records come closer to expiring."
      check_first         = "consumer errors and throttles, function duration against its timeout, and whether traffic grew beyond the stream's or the function's capacity."
    }
    consumer-records-sent-to-dlq = {
      namespace           = local.metrics_namespace
      metric_name         = var.consumer_dlq_metric_name
      statistic           = "Sum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 1
      treat_missing_data  = "notBreaching"
      summary             = "The consumer sent records it could not process to the DLQ: they are safe there but not in the results table."
      check_first         = "the DLQ messages' error category and reason, then replay them once the cause is fixed."
    }
    consumer-throttles = {
      namespace           = "AWS/Lambda"
      metric_name         = "Throttles"
      statistic           = "Sum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 3
      treat_missing_data  = "notBreaching"
      summary             = "The consumer function is being throttled: batches wait and iterator age grows."
      check_first         = "the function's reserved concurrency and the account's concurrency usage in this Region."
    }
    dlq-messages-visible = {
      namespace           = "AWS/SQS"
      metric_name         = "ApproximateNumberOfMessagesVisible"
      statistic           = "Maximum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 60
      evaluation_periods  = 1
      datapoints_to_alarm = 1
      treat_missing_data  = "ignore"
      summary             = "The dead-letter queue holds records the pipeline could not store."
      check_first         = "the messages' error category and reason; fix the cause, then replay them into the stream."
    }
    dlq-oldest-message-age = {
      namespace           = "AWS/SQS"
      metric_name         = "ApproximateAgeOfOldestMessage"
      statistic           = "Maximum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 86400
      period              = 300
      evaluation_periods  = 1
      datapoints_to_alarm = 1
      treat_missing_data  = "ignore"
      summary             = "A record has waited in the dead-letter queue longer than triage should take: SQS deletes it when the queue's retention (at most 14 days) runs out."
      check_first         = "who owns the DLQ triage, then the messages' reasons; replay or archive them before retention expires."
    }
    efo-consumer-lag = {
      namespace           = "AWS/Kinesis"
      metric_name         = "SubscribeToShardEvent.MillisBehindLatest"
      statistic           = "Maximum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 60000
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 5
      treat_missing_data  = "breaching"
      summary             = "The enhanced fan-out consumer is behind the tip of the stream, or not subscribed at all (no events): records are not being read."
      check_first         = "the event source mapping's state and last processing result, then the consumer function's errors and throttles."
    }
    hydrate-errors = {
      namespace           = "AWS/Lambda"
      metric_name         = "Errors"
      statistic           = "Sum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 1
      treat_missing_data  = "notBreaching"
      summary             = "The hydrate function failed: failed-batch notifications are not being turned into DLQ messages, and their records are only on the stream until retention expires."
      check_first         = "the hydrate function's log group, then its asynchronous retries and on-failure destination."
    }
    hydrate-payload-unavailable = {
      namespace           = local.metrics_namespace
      metric_name         = var.hydrate_payload_unavailable_metric_name
      statistic           = "Sum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 1
      treat_missing_data  = "notBreaching"
      summary             = "DATA LOSS: records expired from the stream before the hydrate function could re-read them. Only their coordinates reached the DLQ."
      check_first         = "the DLQ messages for the lost sequence numbers and ask the producers to resend them; then why failed batches waited so long (iterator age, hydrate errors)."
    }
    notifier-emails-failed = {
      namespace           = local.metrics_namespace
      metric_name         = var.notifier_failed_metric_name
      statistic           = "Sum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 1
      treat_missing_data  = "notBreaching"
      summary             = "The e-mail notifier could not send e-mails: their records are retried, then reach the on-failure destination (the DLQ); the customers have not been notified."
      check_first         = "the notifier's log group for the SES error (identity not verified, sandbox recipient, sending quota), then the DLQ messages whose consumer is the notifier."
    }
    stream-incoming-records-low = {
      namespace           = "AWS/Kinesis"
      metric_name         = "IncomingRecords"
      statistic           = "Sum"
      comparison_operator = "LessThanThreshold"
      threshold           = var.min_incoming_records_per_period
      period              = 300
      evaluation_periods  = 3
      datapoints_to_alarm = 3
      treat_missing_data  = "breaching"
      summary             = "The stream is receiving fewer records than expected, or none at all: producers may have stopped or be failing."
      check_first         = "the producers' logs and their PutRecords errors, then whether they still hold permission on the stream and its key."
    }
    stream-iterator-age = {
      namespace           = "AWS/Kinesis"
      metric_name         = "GetRecords.IteratorAgeMilliseconds"
      statistic           = "Maximum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 60000
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 5
      treat_missing_data  = "missing"
      summary             = "A polling (GetRecords) consumer of the stream is falling behind: unread records come closer to expiring."
      check_first         = "which consumer lags (consumer-iterator-age per function), its errors and throttles, and read throttling on the stream."
    }
    stream-put-records-failed = {
      namespace           = "AWS/Kinesis"
      metric_name         = "PutRecords.FailedRecords"
      statistic           = "Sum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 1
      treat_missing_data  = "notBreaching"
      summary             = "Kinesis rejected records inside PutRecords calls with internal failures: a producer that does not retry failed entries loses them."
      check_first         = "that producers retry the failed entries of each PutRecords response, and the AWS Health dashboard for Kinesis."
    }
    stream-read-throttled = {
      namespace           = "AWS/Kinesis"
      metric_name         = "ReadProvisionedThroughputExceeded"
      statistic           = "Sum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 3
      treat_missing_data  = "notBreaching"
      summary             = "Reads from the stream are being throttled: polling consumers share 5 reads and 2 MB per second per shard."
      check_first         = "how many polling consumers read the stream (move busy ones to enhanced fan-out) and the shard count."
    }
    stream-write-throttled = {
      namespace           = "AWS/Kinesis"
      metric_name         = "WriteProvisionedThroughputExceeded"
      statistic           = "Sum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 3
      treat_missing_data  = "notBreaching"
      summary             = "Writes to the stream are being throttled: producers must retry, and lose records if they give up."
      check_first         = "the shard count or on-demand limits against IncomingBytes, and hot partition keys."
    }
  }

  # Defaults with the caller's overrides applied; an unset attribute (null)
  # keeps the default. coalesce() fails on null alone, and try() then falls
  # back to the default.
  alarm_settings = {
    for id, alarm in local.alarm_catalog : id => {
      enabled             = try(coalesce(var.alarm_overrides[id].enabled), true)
      threshold           = try(coalesce(var.alarm_overrides[id].threshold), alarm.threshold)
      period              = try(coalesce(var.alarm_overrides[id].period), alarm.period)
      evaluation_periods  = try(coalesce(var.alarm_overrides[id].evaluation_periods), alarm.evaluation_periods)
      datapoints_to_alarm = try(coalesce(var.alarm_overrides[id].datapoints_to_alarm), alarm.datapoints_to_alarm)
    }
  }

  # Alarm id -> subject -> dimensions. An alarm exists only for the subjects
  # given: "" is the subject of alarms that watch a single thing.
  alarm_subjects = {
    consumer-errors       = { for name in var.consumer_function_names : name => { FunctionName = name } }
    consumer-iterator-age = { for name in var.consumer_function_names : name => { FunctionName = name } }
    consumer-throttles    = { for name in var.consumer_function_names : name => { FunctionName = name } }
    consumer-records-sent-to-dlq = merge(
      { for service in compact([var.consumer_service_name]) : "" => { service = service } },
      { for service in var.consumer_service_names : service => { service = service } },
    )
    dlq-messages-visible   = { for queue in compact([var.dlq_name]) : "" => { QueueName = queue } }
    dlq-oldest-message-age = { for queue in compact([var.dlq_name]) : "" => { QueueName = queue } }
    efo-consumer-lag = {
      for consumer in var.stream_name == null ? [] : var.efo_consumer_names : consumer => {
        StreamName   = var.stream_name
        ConsumerName = consumer
      }
    }
    hydrate-errors              = { for name in compact([var.hydrate_function_name]) : "" => { FunctionName = name } }
    hydrate-payload-unavailable = { for service in compact([var.hydrate_service_name]) : "" => { service = service } }
    notifier-emails-failed      = { for service in compact([var.notifier_service_name]) : "" => { service = service } }
    stream-incoming-records-low = {
      for stream in var.min_incoming_records_per_period == null ? [] : compact([var.stream_name]) : "" => { StreamName = stream }
    }
    stream-iterator-age       = { for stream in compact([var.stream_name]) : "" => { StreamName = stream } }
    stream-put-records-failed = { for stream in compact([var.stream_name]) : "" => { StreamName = stream } }
    stream-read-throttled     = { for stream in compact([var.stream_name]) : "" => { StreamName = stream } }
    stream-write-throttled    = { for stream in compact([var.stream_name]) : "" => { StreamName = stream } }
  }

  # Keyed "<alarm-id>" or "<alarm-id>/<subject>" (the keys of the alarm_arns
  # and alarm_names outputs).
  alarms = merge([
    for id, subjects in local.alarm_subjects : {
      for subject, dimensions in subjects : (subject == "" ? id : "${id}/${subject}") => {
        id         = id
        name       = subject == "" ? "${var.name_prefix}-${id}" : "${var.name_prefix}-${id}-${subject}"
        subject    = subject
        dimensions = tomap(dimensions)
      }
    } if local.alarm_settings[id].enabled
  ]...)
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name = each.value.name
  # What it means, the condition as configured (overrides included), what to
  # check first, and the runbook section.
  alarm_description = format(
    "%s%s Fires when %s %s %s %v in %d of %d periods of %d s (missing data: %s). Check first: %s See docs/runbook.md#%s",
    each.value.subject == "" ? "" : "${each.value.subject}: ",
    local.alarm_catalog[each.value.id].summary,
    local.alarm_catalog[each.value.id].statistic,
    local.alarm_catalog[each.value.id].metric_name,
    local.alarm_catalog[each.value.id].comparison_operator == "LessThanThreshold" ? "<" : ">",
    local.alarm_settings[each.value.id].threshold,
    local.alarm_settings[each.value.id].datapoints_to_alarm,
    local.alarm_settings[each.value.id].evaluation_periods,
    local.alarm_settings[each.value.id].period,
    local.alarm_catalog[each.value.id].treat_missing_data,
    local.alarm_catalog[each.value.id].check_first,
    each.value.id,
  )

  namespace   = local.alarm_catalog[each.value.id].namespace
  metric_name = local.alarm_catalog[each.value.id].metric_name
  dimensions  = each.value.dimensions
  statistic   = local.alarm_catalog[each.value.id].statistic
  # No unit: an alarm whose unit differs from the one the metric is published
  # with never sees data.

  comparison_operator = local.alarm_catalog[each.value.id].comparison_operator
  threshold           = local.alarm_settings[each.value.id].threshold
  period              = local.alarm_settings[each.value.id].period
  evaluation_periods  = local.alarm_settings[each.value.id].evaluation_periods
  datapoints_to_alarm = local.alarm_settings[each.value.id].datapoints_to_alarm
  treat_missing_data  = local.alarm_catalog[each.value.id].treat_missing_data

  # Not an input: an alarm that cannot notify is worse than none, because it
  # looks like coverage. Recovery is announced too, so nobody has to poll the
  # console to learn an incident is over. INSUFFICIENT_DATA notifies nobody:
  # for these metrics it mostly means an idle pipeline.
  actions_enabled           = true
  alarm_actions             = [aws_sns_topic.this.arn]
  ok_actions                = [aws_sns_topic.this.arn]
  insufficient_data_actions = []

  tags = var.tags

  # CloudWatch must be allowed to publish before the first alarm can change state (the topic
  # itself already waits for the key's policy through the key's ARN).
  depends_on = [aws_sns_topic_policy.this]
}
