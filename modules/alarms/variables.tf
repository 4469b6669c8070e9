variable "alarm_emails" {
  type        = list(string)
  description = "E-mail addresses subscribed to the alarm topic. Each recipient must confirm the subscription from the e-mail AWS sends before notifications are delivered."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for email in var.alarm_emails : can(regex("^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}$", email))])
    error_message = "Each alarm_emails entry must be an e-mail address of the form name@example.com."
  }
}

variable "alarm_overrides" {
  type = map(object({
    enabled             = optional(bool)
    threshold           = optional(number)
    evaluation_periods  = optional(number)
    datapoints_to_alarm = optional(number)
    period              = optional(number)
  }))
  description = "Per-alarm changes to the defaults, keyed by alarm id (see the alarm table in the README). Unset attributes keep the default; enabled = false removes the alarm. The threshold of stream-incoming-records-low is min_incoming_records_per_period."
  default     = {}
  nullable    = false

  # Keep this list in step with local.alarm_catalog (alarms.tf): variable
  # validation cannot read locals before Terraform 1.9.
  validation {
    condition = alltrue([for id in keys(var.alarm_overrides) : contains([
      "consumer-batch-item-failures",
      "consumer-destination-delivery-failures",
      "consumer-dropped-events",
      "consumer-duration-near-timeout",
      "consumer-errors",
      "consumer-iterator-age",
      "consumer-records-sent-to-dlq",
      "consumer-throttles",
      "dlq-messages-visible",
      "dlq-oldest-message-age",
      "dlq-payloads-omitted",
      "dlq-retention-critical",
      "dlq-retention-warning",
      "dlq-stream-deadline-critical",
      "dlq-stream-deadline-warning",
      "efo-consumer-lag",
      "hydrate-errors",
      "hydrate-payload-unavailable",
      "notifier-bounce-rate",
      "notifier-complaint-rate",
      "notifier-emails-failed",
      "results-table-write-throttled",
      "stream-incoming-records-low",
      "stream-iterator-age",
      "stream-put-records-failed",
      "stream-read-throttled",
      "stream-write-throttled",
    ], id)])
    error_message = "alarm_overrides keys must be alarm ids: consumer-batch-item-failures, consumer-destination-delivery-failures, consumer-dropped-events, consumer-duration-near-timeout, consumer-errors, consumer-iterator-age, consumer-records-sent-to-dlq, consumer-throttles, dlq-messages-visible, dlq-oldest-message-age, dlq-payloads-omitted, dlq-retention-critical, dlq-retention-warning, dlq-stream-deadline-critical, dlq-stream-deadline-warning, efo-consumer-lag, hydrate-errors, hydrate-payload-unavailable, notifier-bounce-rate, notifier-complaint-rate, notifier-emails-failed, results-table-write-throttled, stream-incoming-records-low, stream-iterator-age, stream-put-records-failed, stream-read-throttled, stream-write-throttled."
  }

  # CloudWatch also accepts 10, 20 and 30 seconds, but only high-resolution
  # metrics have data that often; every metric watched here is published per
  # minute, so a shorter period would leave most evaluations without data.
  validation {
    condition     = alltrue([for o in values(var.alarm_overrides) : o.period == null ? true : o.period >= 60 && o.period % 60 == 0])
    error_message = "alarm_overrides[*].period must be a multiple of 60 seconds (60, 120, 300, ...): the metrics these alarms watch are published once a minute, so the 10, 20 and 30 second periods CloudWatch reserves for high-resolution metrics would see no data."
  }

  validation {
    condition     = alltrue([for o in values(var.alarm_overrides) : o.evaluation_periods == null ? true : o.evaluation_periods >= 1 && floor(o.evaluation_periods) == o.evaluation_periods])
    error_message = "alarm_overrides[*].evaluation_periods must be a whole number >= 1."
  }

  validation {
    condition     = alltrue([for o in values(var.alarm_overrides) : o.datapoints_to_alarm == null ? true : o.datapoints_to_alarm >= 1 && floor(o.datapoints_to_alarm) == o.datapoints_to_alarm])
    error_message = "alarm_overrides[*].datapoints_to_alarm must be a whole number >= 1."
  }

  # Only when both are overridden; a single override is checked against the
  # default it is paired with by a precondition on the topic (main.tf).
  validation {
    condition     = alltrue([for o in values(var.alarm_overrides) : o.datapoints_to_alarm == null || o.evaluation_periods == null ? true : o.datapoints_to_alarm <= o.evaluation_periods])
    error_message = "alarm_overrides[*].datapoints_to_alarm must be between 1 and evaluation_periods (M out of N: M cannot exceed N)."
  }

  validation {
    condition = alltrue([
      for o in values(var.alarm_overrides) : o.period == null || o.evaluation_periods == null ? true : (
        o.period * o.evaluation_periods <= (o.period < 3600 ? 86400 : 604800)
      )
    ])
    error_message = "alarm_overrides[*].period x evaluation_periods must be at most 86400 seconds (1 day) when period is under 3600, and at most 604800 seconds (7 days) otherwise: CloudWatch evaluates no longer window."
  }

  validation {
    condition     = alltrue([for o in values(var.alarm_overrides) : o.threshold == null ? true : o.threshold >= 0])
    error_message = "alarm_overrides[*].threshold must be >= 0: every alarm here compares a count, an age or a duration."
  }

  validation {
    condition     = try(var.alarm_overrides["stream-incoming-records-low"].threshold, null) == null
    error_message = "alarm_overrides[\"stream-incoming-records-low\"].threshold is not accepted: set min_incoming_records_per_period, which both enables that alarm and sets its threshold."
  }

  validation {
    condition     = try(var.alarm_overrides["consumer-duration-near-timeout"].threshold, null) == null
    error_message = "alarm_overrides[\"consumer-duration-near-timeout\"].threshold is not accepted: each function's threshold is duration_timeout_percent of its own timeout (function_timeouts)."
  }

  # The deadline alarms' thresholds and windows are derived from the retention they protect;
  # an override could move them past the deadline. They can only be turned off.
  validation {
    condition = alltrue([
      for id in ["dlq-retention-critical", "dlq-retention-warning", "dlq-stream-deadline-critical", "dlq-stream-deadline-warning"] :
      try(var.alarm_overrides[id].threshold, null) == null && try(var.alarm_overrides[id].period, null) == null && try(var.alarm_overrides[id].evaluation_periods, null) == null && try(var.alarm_overrides[id].datapoints_to_alarm, null) == null
    ])
    error_message = "alarm_overrides for dlq-retention-warning, dlq-retention-critical, dlq-stream-deadline-warning and dlq-stream-deadline-critical accept only enabled: their thresholds come from stream_retention_hours, dlq_message_retention_seconds and deadline_fractions."
  }
}

variable "consumer_dlq_metric_name" {
  type        = string
  description = "Powertools metric the consumer functions emit for each record they send to the DLQ (the consumer's failed-record count)."
  default     = "RecordsSentToDlq"
  nullable    = false

  validation {
    condition     = length(var.consumer_dlq_metric_name) >= 1 && length(var.consumer_dlq_metric_name) <= 255
    error_message = "consumer_dlq_metric_name must be 1-255 characters long."
  }
}

variable "consumer_event_source_mapping_uuids" {
  type        = map(string)
  description = "Event source mapping UUID of each consumer function, keyed by function name (the stream-consumer module's event_source_mapping_uuid output). Each gets a consumer-dropped-events alarm on the mapping's DroppedEventCount, which Lambda publishes only when the mapping's metrics_config includes EventCount (the stream-consumer module's default)."
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for name in keys(var.consumer_event_source_mapping_uuids) : can(regex("^[a-zA-Z0-9_-]{1,64}$", name))])
    error_message = "consumer_event_source_mapping_uuids keys must be Lambda function names: 1-64 characters from [a-zA-Z0-9_-]."
  }
}

variable "consumer_function_names" {
  type        = list(string)
  description = "Names (not ARNs) of the Lambda functions consuming the stream through an event source mapping. Each gets consumer-iterator-age, consumer-errors and consumer-throttles alarms."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for name in var.consumer_function_names : can(regex("^[a-zA-Z0-9_-]{1,64}$", name))])
    error_message = "Each consumer_function_names entry must be a Lambda function name (not an ARN): 1-64 characters from [a-zA-Z0-9_-]."
  }

  validation {
    condition     = length(distinct(var.consumer_function_names)) == length(var.consumer_function_names)
    error_message = "consumer_function_names must not contain duplicates."
  }
}

variable "consumer_service_name" {
  type        = string
  description = "POWERTOOLS_SERVICE_NAME of the consumer function, the value of the service dimension on its Powertools metrics (the stream-consumer module sets it to the function name). When set, consumer-records-sent-to-dlq alarms on consumer_dlq_metric_name. Null disables that alarm."
  default     = null

  validation {
    condition     = var.consumer_service_name == null ? true : length(trimspace(var.consumer_service_name)) >= 1 && length(var.consumer_service_name) <= 1024
    error_message = "consumer_service_name must be null or a non-blank string of at most 1024 characters (a CloudWatch dimension value)."
  }
}

variable "consumer_service_names" {
  type        = list(string)
  description = "POWERTOOLS_SERVICE_NAME of each consumer function of a pipeline with several (the stream-consumer module's service_name outputs). Each gets a consumer-records-sent-to-dlq alarm of its own on consumer_dlq_metric_name, named <name_prefix>-consumer-records-sent-to-dlq-<service>: 1-200 characters of [a-zA-Z0-9_.-] each, no duplicates, and none equal to consumer_service_name."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for service in var.consumer_service_names : can(regex("^[a-zA-Z0-9_.-]{1,200}$", service))])
    error_message = "Each consumer_service_names entry must be 1-200 characters of [a-zA-Z0-9_.-]: it is the service dimension and part of the alarm's name."
  }

  validation {
    condition     = length(distinct(var.consumer_service_names)) == length(var.consumer_service_names)
    error_message = "consumer_service_names must not contain duplicates: each service gets one alarm."
  }
}

variable "create_dashboard" {
  type        = bool
  description = "Whether to create the CloudWatch dashboard. It is created only when at least one subject (stream, function or DLQ) is given."
  default     = true
  nullable    = false
}

variable "deadline_fractions" {
  type = object({
    stream_warning  = optional(number, 0.25)
    stream_critical = optional(number, 0.5)
    dlq_warning     = optional(number, 0.5)
    dlq_critical    = optional(number, 0.75)
  })
  description = "When the deadline alarms escalate, as fractions of the retention they protect: dlq-stream-deadline-warning/-critical after the DLQ has held messages for stream_warning/stream_critical x stream_retention_hours (the payload of a pointer-only or HYDRATE_FAILED envelope lives only in the stream, and its record was already up to maximum_record_age_in_seconds old when it failed), dlq-retention-warning/-critical when the oldest message is dlq_warning/dlq_critical x dlq_message_retention_seconds old. Each between 0.05 and 0.95, warning below critical."
  default     = {}
  nullable    = false

  validation {
    condition = alltrue([
      for f in [var.deadline_fractions.stream_warning, var.deadline_fractions.stream_critical, var.deadline_fractions.dlq_warning, var.deadline_fractions.dlq_critical] :
      f != null && f >= 0.05 && f <= 0.95
    ])
    error_message = "deadline_fractions: every fraction must be between 0.05 and 0.95 of the retention (1 would alarm at the deadline itself, when the data is already gone)."
  }

  validation {
    condition     = try(var.deadline_fractions.stream_warning < var.deadline_fractions.stream_critical && var.deadline_fractions.dlq_warning < var.deadline_fractions.dlq_critical, false)
    error_message = "deadline_fractions: stream_warning must be below stream_critical and dlq_warning below dlq_critical (the warning comes first)."
  }
}

variable "dlq_message_retention_seconds" {
  type        = number
  description = "Message retention of the DLQ (SQS MessageRetentionPeriod, 60 to 1,209,600 seconds): the deadline of every envelope that carries its payload. With dlq_name, enables dlq-retention-warning and dlq-retention-critical (deadline_fractions). Null disables them."
  default     = null

  validation {
    condition     = var.dlq_message_retention_seconds == null ? true : var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600 && floor(var.dlq_message_retention_seconds) == var.dlq_message_retention_seconds
    error_message = "dlq_message_retention_seconds must be null or a whole number between 60 and 1,209,600 (14 days), the range SQS accepts."
  }
}

variable "dlq_name" {
  type        = string
  description = "Name (not URL or ARN) of the SQS dead-letter queue holding records the pipeline could not store. Enables dlq-messages-visible and dlq-oldest-message-age."
  default     = null

  validation {
    condition     = var.dlq_name == null ? true : can(regex("^([a-zA-Z0-9_-]{1,80}|[a-zA-Z0-9_-]{1,75}\\.fifo)$", var.dlq_name))
    error_message = "dlq_name must be null or an SQS queue name: 1-80 characters from [a-zA-Z0-9_-], a FIFO queue name ending in .fifo."
  }
}

variable "duration_timeout_percent" {
  type        = number
  description = "consumer-duration-near-timeout fires when a function's longest invocation in a minute exceeds this percentage of its timeout (function_timeouts), 50 to 99: a batch that times out is retried whole, and the retries count against maximum_retry_attempts."
  default     = 80
  nullable    = false

  validation {
    condition     = var.duration_timeout_percent >= 50 && var.duration_timeout_percent <= 99 && floor(var.duration_timeout_percent) == var.duration_timeout_percent
    error_message = "duration_timeout_percent must be a whole number between 50 and 99."
  }
}

variable "efo_consumer_names" {
  type        = list(string)
  description = "Enhanced fan-out consumer names registered on stream_name (the kinesis-stream module's consumers keys). Each gets an efo-consumer-lag alarm, which also fires when the consumer stops subscribing. Requires stream_name."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for name in var.efo_consumer_names : can(regex("^[a-zA-Z0-9_.-]{1,128}$", name))])
    error_message = "Each efo_consumer_names entry must be a Kinesis consumer name: 1-128 characters from [a-zA-Z0-9_.-]."
  }

  validation {
    condition     = length(distinct(var.efo_consumer_names)) == length(var.efo_consumer_names)
    error_message = "efo_consumer_names must not contain duplicates."
  }
}

variable "function_timeouts" {
  type        = map(number)
  description = "Timeout in seconds (1 to 900) of each function to watch for invocations close to it, keyed by function name. Each gets a consumer-duration-near-timeout alarm at duration_timeout_percent of its own timeout: pass the values the functions are deployed with, never a guess."
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for name in keys(var.function_timeouts) : can(regex("^[a-zA-Z0-9_-]{1,64}$", name))])
    error_message = "function_timeouts keys must be Lambda function names: 1-64 characters from [a-zA-Z0-9_-]."
  }

  validation {
    condition     = alltrue([for timeout in values(var.function_timeouts) : timeout != null && timeout >= 1 && timeout <= 900 && floor(timeout) == timeout])
    error_message = "function_timeouts values must be whole numbers of seconds between 1 and 900, Lambda's timeout range."
  }
}

variable "hydrate_function_name" {
  type        = string
  description = "Name (not ARN) of the hydrate Lambda function, which re-reads failed records from the stream and writes them to the DLQ. Enables hydrate-errors."
  default     = null

  validation {
    condition     = var.hydrate_function_name == null ? true : can(regex("^[a-zA-Z0-9_-]{1,64}$", var.hydrate_function_name))
    error_message = "hydrate_function_name must be null or a Lambda function name (not an ARN): 1-64 characters from [a-zA-Z0-9_-]."
  }
}

variable "hydrate_payload_unavailable_metric_name" {
  type        = string
  description = "Powertools metric the hydrate function emits for each record that expired from the stream before it could be re-read: lost data."
  default     = "PayloadUnavailable"
  nullable    = false

  validation {
    condition     = length(var.hydrate_payload_unavailable_metric_name) >= 1 && length(var.hydrate_payload_unavailable_metric_name) <= 255
    error_message = "hydrate_payload_unavailable_metric_name must be 1-255 characters long."
  }
}

variable "hydrate_service_name" {
  type        = string
  description = "POWERTOOLS_SERVICE_NAME of the hydrate function, the value of the service dimension on its Powertools metrics. When set, hydrate-payload-unavailable alarms on hydrate_payload_unavailable_metric_name. Null disables that alarm."
  default     = null

  validation {
    condition     = var.hydrate_service_name == null ? true : length(trimspace(var.hydrate_service_name)) >= 1 && length(var.hydrate_service_name) <= 1024
    error_message = "hydrate_service_name must be null or a non-blank string of at most 1024 characters (a CloudWatch dimension value)."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of an existing customer managed KMS key to encrypt the alarm topic with. When null (the default) the module creates a key with rotation whose policy lets CloudWatch alarms named <name_prefix>-* use it. A key passed here is not modified: its policy must allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*, or notifications are silently dropped."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN of the form arn:<partition>:kms:<region>:<account>:key/<key-id> (aliases are not accepted)."
  }
}

variable "kms_key_deletion_window_in_days" {
  type        = number
  description = "Waiting period, in days, before the module-created KMS key is deleted after destroy. Ignored when kms_key_arn is set."
  default     = 30
  nullable    = false

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30 && floor(var.kms_key_deletion_window_in_days) == var.kms_key_deletion_window_in_days
    error_message = "kms_key_deletion_window_in_days must be a whole number between 7 and 30."
  }
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace of the functions' Powertools metrics, their POWERTOOLS_METRICS_NAMESPACE: pass the metrics_namespace output of the pipeline, stream-consumer or hydrating-dlq module. Null (the default): StreamPipeline/<name_prefix>."
  default     = null

  validation {
    condition     = var.metrics_namespace == null ? true : can(regex("^[a-zA-Z0-9._/#: -]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be null or 1-255 characters from [a-zA-Z0-9._/#: -] and must not start with AWS/ (reserved for AWS services)."
  }
}

variable "min_incoming_records_per_period" {
  type        = number
  description = "Fewest records the stream should receive per 5 minutes. When set (with stream_name), stream-incoming-records-low fires after 15 minutes below it, or with no data at all, so a silent stream is not mistaken for a healthy one. Null (the default) disables the alarm: leave it null where quiet periods are normal."
  default     = null

  validation {
    condition     = var.min_incoming_records_per_period == null ? true : var.min_incoming_records_per_period >= 1 && floor(var.min_incoming_records_per_period) == var.min_incoming_records_per_period
    error_message = "min_incoming_records_per_period must be null or a whole number >= 1."
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every name the module creates: the topic <name_prefix>-alarms, alarms <name_prefix>-<alarm-id>[-<subject>] and the dashboard <name_prefix>-stream-pipeline. The topic and key policies only admit alarms whose names start with <name_prefix>-."
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$", var.name_prefix))
    error_message = "name_prefix must be 1-64 characters from [a-zA-Z0-9_-], starting with a letter or digit (SNS topic and dashboard names allow no other characters)."
  }
}

variable "notifier_configuration_set" {
  type = object({
    name                     = optional(string)
    bounce_rate_threshold    = optional(number, 0.025)
    complaint_rate_threshold = optional(number, 0.0005)
  })
  description = "The e-mail notifier's SES configuration set (reputation metrics enabled): notifier-bounce-rate and notifier-complaint-rate alarm when its Reputation.BounceRate exceeds bounce_rate_threshold (a fraction above 0 and below 0.05, AWS's review level; default 0.025) or its Reputation.ComplaintRate exceeds complaint_rate_threshold (above 0 and below 0.001; default 0.0005). Without a name (the default) neither alarm exists."
  default     = {}
  nullable    = false

  validation {
    condition     = var.notifier_configuration_set.name == null || can(regex("^[a-zA-Z0-9_-]{1,64}$", coalesce(var.notifier_configuration_set.name, "-")))
    error_message = "notifier_configuration_set.name must be null or an SES configuration set name: 1-64 characters of [a-zA-Z0-9_-]."
  }

  validation {
    condition     = var.notifier_configuration_set.bounce_rate_threshold > 0 && var.notifier_configuration_set.bounce_rate_threshold < 0.05
    error_message = "notifier_configuration_set.bounce_rate_threshold must be a fraction above 0 and below 0.05 (5 %, the bounce rate at which AWS reviews the account)."
  }

  validation {
    condition     = var.notifier_configuration_set.complaint_rate_threshold > 0 && var.notifier_configuration_set.complaint_rate_threshold < 0.001
    error_message = "notifier_configuration_set.complaint_rate_threshold must be a fraction above 0 and below 0.001 (0.1 %, the complaint rate at which AWS reviews the account)."
  }
}

variable "notifier_failed_metric_name" {
  type        = string
  description = "Powertools metric the e-mail notifier function emits for each e-mail it could not send (1-255 characters)."
  default     = "EmailsFailed"
  nullable    = false

  validation {
    condition     = length(var.notifier_failed_metric_name) >= 1 && length(var.notifier_failed_metric_name) <= 255
    error_message = "notifier_failed_metric_name must be 1-255 characters long."
  }
}

variable "notifier_service_name" {
  type        = string
  description = "POWERTOOLS_SERVICE_NAME of the e-mail notifier function (email_notifier), the value of the service dimension on its Powertools metrics. When set, notifier-emails-failed alarms on notifier_failed_metric_name. Null (the default) disables that alarm."
  default     = null

  validation {
    condition     = var.notifier_service_name == null ? true : length(trimspace(var.notifier_service_name)) >= 1 && length(var.notifier_service_name) <= 1024
    error_message = "notifier_service_name must be null or a non-blank string of at most 1024 characters (a CloudWatch dimension value)."
  }
}

variable "results_table_name" {
  type        = string
  description = "Name of the DynamoDB table the consumers write their results to. Enables results-table-write-throttled on its WriteThrottleEvents. Null disables it."
  default     = null

  validation {
    condition     = var.results_table_name == null ? true : can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.results_table_name))
    error_message = "results_table_name must be null or a DynamoDB table name: 3-255 characters from [a-zA-Z0-9_.-]."
  }
}

variable "stream_name" {
  type        = string
  description = "Name of the Kinesis data stream. Enables stream-iterator-age, stream-read-throttled, stream-write-throttled and stream-put-records-failed, and with min_incoming_records_per_period stream-incoming-records-low."
  default     = null

  validation {
    condition     = var.stream_name == null ? true : can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.stream_name))
    error_message = "stream_name must be null or a Kinesis stream name: 1-128 characters from [a-zA-Z0-9_.-]."
  }
}

variable "stream_retention_hours" {
  type        = number
  description = "Retention of the stream in hours (24 to 8760): the deadline of pointer-only and HYDRATE_FAILED envelopes, whose payload lives only in the stream. With dlq_name, enables dlq-stream-deadline-warning and dlq-stream-deadline-critical (deadline_fractions). Null disables them."
  default     = null

  validation {
    condition     = var.stream_retention_hours == null ? true : var.stream_retention_hours >= 24 && var.stream_retention_hours <= 8760 && floor(var.stream_retention_hours) == var.stream_retention_hours
    error_message = "stream_retention_hours must be null or a whole number between 24 and 8760, the Kinesis retention range."
  }
}

variable "subscriptions" {
  type = list(object({
    protocol = string
    endpoint = string
  }))
  description = "Other endpoints subscribed to the alarm topic. protocol is one of https, sqs, lambda, sms, email, email-json; endpoint is an https:// URL, an SQS queue ARN (standard queue), a Lambda function ARN, an E.164 phone number (+15555550100) or an e-mail address. A Lambda endpoint needs a lambda:InvokeFunction permission for sns.amazonaws.com; an encrypted SQS queue needs a key policy that admits SNS."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for s in var.subscriptions : contains(["https", "sqs", "lambda", "sms", "email", "email-json"], s.protocol)])
    error_message = "subscriptions[*].protocol must be one of https, sqs, lambda, sms, email, email-json (plain http is not accepted: alarm details would travel unencrypted)."
  }

  # An unknown protocol matches the empty pattern here: the rule above reports it.
  validation {
    condition = alltrue([
      for s in var.subscriptions : can(regex(lookup({
        https      = "^https://[^\\s]+$"
        sqs        = "^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[a-zA-Z0-9_-]{1,80}$"
        lambda     = "^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[a-zA-Z0-9_-]{1,64}(:[a-zA-Z0-9_$-]+)?$"
        sms        = "^\\+[1-9][0-9]{1,14}$"
        email      = "^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}$"
        email-json = "^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}$"
      }, s.protocol, ""), s.endpoint))
    ])
    error_message = "Each subscriptions[*].endpoint must match its protocol: https -> https://... URL; sqs -> arn:<partition>:sqs:<region>:<account>:<queue> (a standard queue: SNS standard topics cannot deliver to FIFO queues); lambda -> arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]; sms -> E.164 number such as +15555550100; email and email-json -> name@example.com."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for the topic, the alarms and the module-created KMS key (CloudWatch dashboards take no tags)."
  default     = {}
  nullable    = false
}
