locals {
  # Deadline escalation, derived from the retention each deadline comes from (never a constant):
  # - stream: hours the DLQ may hold messages without a break before the alarm, a fraction of
  #   the stream's retention. CloudWatch evaluates at most 7 days of hourly periods, hence the
  #   cap at 168 (streams kept longer than that get the alarm at 7 days).
  # - dlq: age of the oldest message, a fraction of the queue's retention.
  stream_deadline_hours = {
    for tier in ["warning", "critical"] : tier => min(168, max(1, floor(coalesce(var.stream_retention_hours, 24) * var.deadline_fractions["stream_${tier}"])))
  }
  dlq_deadline_seconds = {
    for tier in ["warning", "critical"] : tier => floor(coalesce(var.dlq_message_retention_seconds, 1209600) * var.deadline_fractions["dlq_${tier}"])
  }

  # Alarms on a metric math expression (aws_cloudwatch_metric_alarm.backlog) instead of a
  # single metric.
  backlog_alarm_ids = ["dlq-stream-deadline-critical", "dlq-stream-deadline-warning"]

  # Every Powertools service of the pipeline (consumers, notifier, hydrate).
  consumer_services = distinct(concat(compact([var.consumer_service_name]), var.consumer_service_names, compact([var.notifier_service_name])))

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
    consumer-batch-item-failures = {
      namespace           = local.metrics_namespace
      metric_name         = "BatchItemFailures"
      statistic           = "Sum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 300
      evaluation_periods  = 3
      datapoints_to_alarm = 3
      treat_missing_data  = "notBreaching"
      summary             = "The consumer keeps handing records back for retry (ReportBatchItemFailures): not a Lambda error, but the shard waits behind them and each retry brings them closer to maximum_record_age_in_seconds."
      check_first         = "the function's log group for the failing records' exceptions (a sink or a dependency down), then consumer-iterator-age."
    }
    consumer-destination-delivery-failures = {
      namespace           = "AWS/Lambda"
      metric_name         = "DestinationDeliveryFailures"
      statistic           = "Sum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 1
      treat_missing_data  = "notBreaching"
      summary             = "Lambda could not write a failure record to the function's on-failure destination: for a stream mapping it then moves on and the batch is lost unless it is still in the stream."
      check_first         = "the destination's permissions and key policy (the function role's sns:Publish / s3:PutObject and kms:GenerateDataKey), and that the topic or bucket still exists."
    }
    consumer-dropped-events = {
      namespace           = "AWS/Lambda"
      metric_name         = "DroppedEventCount"
      statistic           = "Sum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 1
      treat_missing_data  = "notBreaching"
      summary             = "The event source mapping discarded records past maximum_record_age_in_seconds or maximum_retry_attempts that did not reach the on-failure destination: they are not in the DLQ."
      check_first         = "consumer-destination-delivery-failures for the same function, then re-read the records from the stream before retention runs out."
    }
    consumer-duration-near-timeout = {
      namespace           = "AWS/Lambda"
      metric_name         = "Duration"
      statistic           = "Maximum"
      comparison_operator = "GreaterThanThreshold"
      # Per function: duration_timeout_percent of its own timeout (local.alarms).
      threshold           = 0
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 2
      treat_missing_data  = "notBreaching"
      summary             = "An invocation came close to the function's timeout: a timed-out batch is retried whole and its retries count against maximum_retry_attempts."
      check_first         = "what the slow invocations waited on (X-Ray traces, sink latency, DynamoDB throttling), then batch_size, memory and timeout."
    }
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
    dlq-payloads-omitted = {
      namespace           = local.metrics_namespace
      metric_name         = "DlqPayloadsOmitted"
      statistic           = "Sum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 1
      treat_missing_data  = "notBreaching"
      summary             = "A DLQ envelope was sent without its payload (too large for SQS and not claim-checked to S3): the bytes live only in the stream, whose retention is now the deadline."
      check_first         = "whether the failure bucket is enabled and writable (PAYLOAD_BUCKET), then replay the pointer-only envelopes before the stream's retention runs out."
    }
    dlq-retention-critical = {
      namespace           = "AWS/SQS"
      metric_name         = "ApproximateAgeOfOldestMessage"
      statistic           = "Maximum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = local.dlq_deadline_seconds.critical
      period              = 300
      evaluation_periods  = 1
      datapoints_to_alarm = 1
      treat_missing_data  = "ignore"
      summary             = "The oldest DLQ message is close to the queue's retention: SQS deletes it, envelope and payload, when the retention runs out."
      check_first         = "replay or archive the oldest messages now (docs/runbook.md#replaying-the-dlq); dlq-stream-deadline-critical covers what an inspection hides from this metric."
    }
    dlq-retention-warning = {
      namespace           = "AWS/SQS"
      metric_name         = "ApproximateAgeOfOldestMessage"
      statistic           = "Maximum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = local.dlq_deadline_seconds.warning
      period              = 300
      evaluation_periods  = 1
      datapoints_to_alarm = 1
      treat_missing_data  = "ignore"
      summary             = "The oldest DLQ message has used a large part of the queue's retention."
      check_first         = "who owns the triage, the messages' reasons (replay stats), and a date to replay them well before the retention runs out."
    }
    dlq-stream-deadline-critical = {
      namespace           = "AWS/SQS"
      metric_name         = "ApproximateNumberOfMessagesVisible+ApproximateNumberOfMessagesNotVisible"
      statistic           = "Maximum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 3600
      evaluation_periods  = local.stream_deadline_hours.critical
      datapoints_to_alarm = local.stream_deadline_hours.critical
      treat_missing_data  = "ignore"
      summary             = "The DLQ has held messages for a large part of the stream's retention: a pointer-only or HYDRATE_FAILED envelope among them loses its payload when the stream drops the record."
      check_first         = "replay stats for pointer-only and HYDRATE_FAILED envelopes and replay them now; receives do not hide messages from this alarm."
    }
    dlq-stream-deadline-warning = {
      namespace           = "AWS/SQS"
      metric_name         = "ApproximateNumberOfMessagesVisible+ApproximateNumberOfMessagesNotVisible"
      statistic           = "Maximum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 3600
      evaluation_periods  = local.stream_deadline_hours.warning
      datapoints_to_alarm = local.stream_deadline_hours.warning
      treat_missing_data  = "ignore"
      summary             = "The DLQ has held messages without a break for a good part of the stream's retention: the deadline of any pointer-only or HYDRATE_FAILED envelope among them is approaching."
      check_first         = "replay stats for pointer-only and HYDRATE_FAILED envelopes; replay those first, the others have until the DLQ's retention."
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
    # SES computes these rates itself over a representative window of the configuration set's
    # sends; it publishes them only once there is something to report.
    notifier-bounce-rate = {
      namespace           = "AWS/SES"
      metric_name         = "Reputation.BounceRate"
      statistic           = "Maximum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = var.notifier_configuration_set.bounce_rate_threshold
      period              = 900
      evaluation_periods  = 1
      datapoints_to_alarm = 1
      treat_missing_data  = "notBreaching"
      summary             = "The e-mail notifier's bounce rate (its SES configuration set) is climbing towards 5 %, where AWS reviews the account and may pause sending for every application in it."
      check_first         = "the bounced recipients (SES event destination, suppression list) and whether records name addresses their owners never gave (a producer bug or abuse), then tighten email_notifier.recipients or pause the notifier's mapping."
    }
    notifier-complaint-rate = {
      namespace           = "AWS/SES"
      metric_name         = "Reputation.ComplaintRate"
      statistic           = "Maximum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = var.notifier_configuration_set.complaint_rate_threshold
      period              = 900
      evaluation_periods  = 1
      datapoints_to_alarm = 1
      treat_missing_data  = "notBreaching"
      summary             = "Recipients of the e-mail notifier mark its e-mails as spam at a rate climbing towards 0.1 %, where AWS reviews the account and may pause sending for every application in it."
      check_first         = "what was sent to whom recently (e-mails nobody ordered point at a forged or flooded stream), then pause the notifier's mapping until the cause is found."
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
    results-table-write-throttled = {
      namespace           = "AWS/DynamoDB"
      metric_name         = "WriteThrottleEvents"
      statistic           = "Sum"
      comparison_operator = "GreaterThanThreshold"
      threshold           = 0
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 3
      treat_missing_data  = "notBreaching"
      summary             = "Writes to the results table are being throttled: the consumers retry the unprocessed items, their batches slow down, and what still fails is handed back for retry."
      check_first         = "the table's consumed write capacity against its limits (hot partition keys, account or table throughput quotas), then consumer-batch-item-failures."
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
    consumer-batch-item-failures = { for service in local.consumer_services : service => { service = service } }
    # The hydrate function has an on-failure destination too (its asynchronous invocations').
    consumer-destination-delivery-failures = {
      for name in distinct(concat(var.consumer_function_names, compact([var.hydrate_function_name]))) : name => { FunctionName = name }
    }
    consumer-dropped-events        = { for name, uuid in var.consumer_event_source_mapping_uuids : name => { EventSourceMappingUUID = uuid } }
    consumer-duration-near-timeout = { for name, timeout in var.function_timeouts : name => { FunctionName = name } }
    consumer-errors                = { for name in var.consumer_function_names : name => { FunctionName = name } }
    consumer-iterator-age          = { for name in var.consumer_function_names : name => { FunctionName = name } }
    consumer-throttles             = { for name in var.consumer_function_names : name => { FunctionName = name } }
    consumer-records-sent-to-dlq = merge(
      { for service in compact([var.consumer_service_name]) : "" => { service = service } },
      { for service in var.consumer_service_names : service => { service = service } },
    )
    dlq-messages-visible   = { for queue in compact([var.dlq_name]) : "" => { QueueName = queue } }
    dlq-oldest-message-age = { for queue in compact([var.dlq_name]) : "" => { QueueName = queue } }
    dlq-payloads-omitted = {
      for service in distinct(concat(local.consumer_services, compact([var.hydrate_service_name]))) : service => { service = service }
    }
    dlq-retention-critical       = { for queue in var.dlq_message_retention_seconds == null ? [] : compact([var.dlq_name]) : "" => { QueueName = queue } }
    dlq-retention-warning        = { for queue in var.dlq_message_retention_seconds == null ? [] : compact([var.dlq_name]) : "" => { QueueName = queue } }
    dlq-stream-deadline-critical = { for queue in var.stream_retention_hours == null ? [] : compact([var.dlq_name]) : "" => { QueueName = queue } }
    dlq-stream-deadline-warning  = { for queue in var.stream_retention_hours == null ? [] : compact([var.dlq_name]) : "" => { QueueName = queue } }
    efo-consumer-lag = {
      for consumer in var.stream_name == null ? [] : var.efo_consumer_names : consumer => {
        StreamName   = var.stream_name
        ConsumerName = consumer
      }
    }
    hydrate-errors                = { for name in compact([var.hydrate_function_name]) : "" => { FunctionName = name } }
    hydrate-payload-unavailable   = { for service in compact([var.hydrate_service_name]) : "" => { service = service } }
    notifier-bounce-rate          = { for name in compact([var.notifier_configuration_set.name]) : "" => { "ses:configuration-set" = name } }
    notifier-complaint-rate       = { for name in compact([var.notifier_configuration_set.name]) : "" => { "ses:configuration-set" = name } }
    notifier-emails-failed        = { for service in compact([var.notifier_service_name]) : "" => { service = service } }
    results-table-write-throttled = { for table in compact([var.results_table_name]) : "" => { TableName = table } }
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
        # Timeouts are in seconds, Duration in milliseconds.
        threshold = id == "consumer-duration-near-timeout" ? var.function_timeouts[subject] * 10 * var.duration_timeout_percent : local.alarm_settings[id].threshold
      }
    } if local.alarm_settings[id].enabled
  ]...)

  alarm_description = {
    for key, alarm in local.alarms : key => format(
      "%s%s Fires when %s %s %s %v in %d of %d periods of %d s (missing data: %s). Check first: %s See docs/runbook.md#%s",
      alarm.subject == "" ? "" : "${alarm.subject}: ",
      local.alarm_catalog[alarm.id].summary,
      local.alarm_catalog[alarm.id].statistic,
      local.alarm_catalog[alarm.id].metric_name,
      local.alarm_catalog[alarm.id].comparison_operator == "LessThanThreshold" ? "<" : ">",
      alarm.threshold,
      local.alarm_settings[alarm.id].datapoints_to_alarm,
      local.alarm_settings[alarm.id].evaluation_periods,
      local.alarm_settings[alarm.id].period,
      local.alarm_catalog[alarm.id].treat_missing_data,
      local.alarm_catalog[alarm.id].check_first,
      alarm.id,
    )
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = { for key, alarm in local.alarms : key => alarm if !contains(local.backlog_alarm_ids, alarm.id) }

  alarm_name = each.value.name
  # What it means, the condition as configured (overrides included), what to
  # check first, and the runbook section.
  alarm_description = local.alarm_description[each.key]

  namespace   = local.alarm_catalog[each.value.id].namespace
  metric_name = local.alarm_catalog[each.value.id].metric_name
  dimensions  = each.value.dimensions
  statistic   = local.alarm_catalog[each.value.id].statistic
  # No unit: an alarm whose unit differs from the one the metric is published
  # with never sees data.

  comparison_operator = local.alarm_catalog[each.value.id].comparison_operator
  threshold           = each.value.threshold
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

# "Inspecting the DLQ must not blind its alarms": SQS leaves a message received three or more
# times out of ApproximateAgeOfOldestMessage, and every `replay stats` or console look is a
# receive. The number of messages, visible plus in flight, is counted whatever their receive
# count, so these alarms watch how long the queue has held messages without a break: the
# message that sets them off may be another than the oldest, which only makes them early.
resource "aws_cloudwatch_metric_alarm" "backlog" {
  for_each = { for key, alarm in local.alarms : key => alarm if contains(local.backlog_alarm_ids, alarm.id) }

  alarm_name        = each.value.name
  alarm_description = local.alarm_description[each.key]

  metric_query {
    id          = "held"
    label       = "Messages in the DLQ (visible + in flight)"
    return_data = true
    # REPEAT carries the last count across the hours SQS publishes nothing for a queue nobody
    # touched (inactive queues stop reporting): a quiet queue that still holds messages keeps
    # counting towards the deadline, a quiet empty one stays at 0.
    expression = "FILL(visible, REPEAT) + FILL(in_flight, REPEAT)"
  }

  metric_query {
    id = "visible"

    metric {
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesVisible"
      dimensions  = each.value.dimensions
      stat        = "Maximum"
      period      = local.alarm_settings[each.value.id].period
    }
  }

  metric_query {
    id = "in_flight"

    metric {
      namespace   = "AWS/SQS"
      metric_name = "ApproximateNumberOfMessagesNotVisible"
      dimensions  = each.value.dimensions
      stat        = "Maximum"
      period      = local.alarm_settings[each.value.id].period
    }
  }

  comparison_operator = local.alarm_catalog[each.value.id].comparison_operator
  threshold           = each.value.threshold
  evaluation_periods  = local.alarm_settings[each.value.id].evaluation_periods
  datapoints_to_alarm = local.alarm_settings[each.value.id].datapoints_to_alarm
  treat_missing_data  = local.alarm_catalog[each.value.id].treat_missing_data

  # As for the other alarms: always notify, on alarm and on recovery.
  actions_enabled           = true
  alarm_actions             = [aws_sns_topic.this.arn]
  ok_actions                = [aws_sns_topic.this.arn]
  insufficient_data_actions = []

  tags = var.tags

  depends_on = [aws_sns_topic_policy.this]
}
