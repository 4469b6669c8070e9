# Inputs passed through to a child module are validated there, with the same messages.

variable "alarm_emails" {
  type        = list(string)
  description = "E-mail addresses subscribed to the alarm topic (each confirms its subscription)."
  default     = []
  nullable    = false
}

variable "alarm_overrides" {
  type = map(object({
    enabled             = optional(bool)
    threshold           = optional(number)
    evaluation_periods  = optional(number)
    datapoints_to_alarm = optional(number)
    period              = optional(number)
  }))
  description = "Per-alarm overrides keyed by alarm id (see modules/alarms)."
  default     = {}
  nullable    = false
}

variable "consumers" {
  type = map(object({
    batch_size  = optional(number, 100)
    description = optional(string)
    # Its own enhanced fan-out consumer of the stream (<name>-<key>), or shared polling.
    enhanced_fan_out      = optional(bool, true)
    environment_variables = optional(map(string), {})
    filter_criteria       = optional(list(string), [])
    handler               = string
    iam_statements = optional(list(object({
      actions = list(string)
      conditions = optional(list(object({
        test     = string
        values   = list(string)
        variable = string
      })), [])
      resources = list(string)
      sid       = string
    })), [])
    kms_key_arns                       = optional(list(string), [])
    maximum_batching_window_in_seconds = optional(number)
    maximum_record_age_in_seconds      = optional(number)
    maximum_retry_attempts             = optional(number, 10)
    memory_size                        = optional(number, 256)
    package = object({
      filename         = optional(string)
      python           = optional(string, "python3")
      source_code_hash = optional(string)
      source_dir       = optional(string)
    })
    parallelization_factor         = optional(number)
    reserved_concurrent_executions = optional(number, -1)
    table_name                     = optional(string)
    timeout                        = optional(number, 60)
    tumbling_window_in_seconds     = optional(number, 0)
    window_aware                   = optional(bool, false)
    write_results_table            = optional(bool, false)
  }))
  description = "The stream's consumers, keyed by a short name (1-20 characters of [a-z0-9-], not hydrate or notifier): each is a function <name>-<key> with its event source mapping, wired to the pipeline's DLQ (DLQ_URL), on-failure topic, failure bucket (PAYLOAD_BUCKET, its own PAYLOAD_KEY_PREFIX claim-check/<name>-<key>/), metrics namespace and alarms. Per consumer: package, its code, exactly one of filename (a prebuilt zip) or source_dir (a folder of Python sources the module zips at apply with the runtime and consumer kit; see modules/stream-consumer); handler (e.g. app.lambda_handler); enhanced_fan_out (default true: an EFO consumer <name>-<key> of its own; at most 19 per pipeline, one is kept for the e-mail notifier); filter_criteria (Lambda event filter patterns, JSON objects, at most 10); batch_size 1-10,000 (default 100); maximum_batching_window_in_seconds 0-300, parallelization_factor 1-10 and maximum_record_age_in_seconds 60-604,800 (default: the pipeline's variables of those names); maximum_retry_attempts 0-10,000 (default 10, bounded); tumbling_window_in_seconds 0-900 (default 0, none; above 0 only with window_aware = true: a function that returns the window's state, such as the consumer kit's TumblingWindowConsumer); memory_size 128-10,240 MB (default 256); timeout 1-900 s (default 60); reserved_concurrent_executions -1 (none, the default) or at least 1; environment_variables (not DLQ_URL, FIELD_ENCRYPTION_KEY_ARN, PAYLOAD_BUCKET, PAYLOAD_KEY_PREFIX, SENSITIVE_FIELDS, TABLE_NAME or POWERTOOLS_METRICS_NAMESPACE, which the pipeline sets; POWERTOOLS_SERVICE_NAME defaults to <name>-<key>); write_results_table (TABLE_NAME and write access to the pipeline's results table) or table_name (a DynamoDB table of your own in the stream's account and Region, by name, known at plan time: TABLE_NAME, dynamodb:BatchWriteItem and PutItem), not both; kms_key_arns (keys of the tables it writes to; used through DynamoDB, SQS and SNS only, kms:ViaService: a key used through another service, or directly, needs an iam_statements entry of its own); iam_statements (extra Allow statements: sid of [A-Za-z0-9], unique, not one of the module's; actions service:Action without any *; at least one resource; optional conditions)."
  nullable    = false

  validation {
    condition     = alltrue([for key in keys(var.consumers) : can(regex("^[a-z0-9][a-z0-9-]{0,19}$", key)) && !contains(["hydrate", "notifier"], key)])
    error_message = "Each consumers key must be 1-20 characters of [a-z0-9-], starting with a letter or digit, and neither hydrate nor notifier (the names of the pipeline's own functions): it names the function <name>-<key>."
  }

  validation {
    condition     = length([for consumer in values(var.consumers) : consumer if consumer.enhanced_fan_out]) <= 19
    error_message = "At most 19 consumers may have enhanced_fan_out = true: a stream has at most 20 enhanced fan-out consumers, and one is kept for the e-mail notifier."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : (consumer.package.filename == null) != (consumer.package.source_dir == null)])
    error_message = "Each consumer's package must set exactly one of filename (a prebuilt .zip) and source_dir (a folder the module zips)."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : length(trimspace(consumer.handler)) > 0 && can(regex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$", consumer.handler))])
    error_message = "Each consumer's handler must be <module path>.<function> of Python identifiers, e.g. app.lambda_handler."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : consumer.batch_size >= 1 && consumer.batch_size <= 10000 && floor(consumer.batch_size) == consumer.batch_size])
    error_message = "Each consumer's batch_size must be a whole number between 1 and 10,000."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : consumer.maximum_batching_window_in_seconds == null ? true : consumer.maximum_batching_window_in_seconds >= 0 && consumer.maximum_batching_window_in_seconds <= 300 && floor(consumer.maximum_batching_window_in_seconds) == consumer.maximum_batching_window_in_seconds])
    error_message = "Each consumer's maximum_batching_window_in_seconds must be null (the pipeline's) or a whole number between 0 and 300."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : consumer.parallelization_factor == null ? true : consumer.parallelization_factor >= 1 && consumer.parallelization_factor <= 10 && floor(consumer.parallelization_factor) == consumer.parallelization_factor])
    error_message = "Each consumer's parallelization_factor must be null (the pipeline's) or a whole number between 1 and 10."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : consumer.maximum_record_age_in_seconds == null ? true : consumer.maximum_record_age_in_seconds >= 60 && consumer.maximum_record_age_in_seconds <= 604800 && floor(consumer.maximum_record_age_in_seconds) == consumer.maximum_record_age_in_seconds])
    error_message = "Each consumer's maximum_record_age_in_seconds must be null (the pipeline's) or a whole number between 60 and 604,800 (bounded: -1 is not accepted)."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : consumer.maximum_retry_attempts >= 0 && consumer.maximum_retry_attempts <= 10000 && floor(consumer.maximum_retry_attempts) == consumer.maximum_retry_attempts])
    error_message = "Each consumer's maximum_retry_attempts must be a whole number between 0 and 10,000 (bounded: -1, retry until the record expires, is not accepted)."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : consumer.tumbling_window_in_seconds >= 0 && consumer.tumbling_window_in_seconds <= 900 && floor(consumer.tumbling_window_in_seconds) == consumer.tumbling_window_in_seconds])
    error_message = "Each consumer's tumbling_window_in_seconds must be a whole number between 0 (no window) and 900."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : consumer.tumbling_window_in_seconds == 0 || consumer.window_aware])
    error_message = "A consumer with tumbling_window_in_seconds above 0 must declare window_aware = true (${join(", ", [for key, consumer in var.consumers : key if consumer.tumbling_window_in_seconds != 0 && !consumer.window_aware])} do not): Lambda counts every response without the window's state as a failed invocation, so each batch would be retried and then sent to the on-failure destination after its side effects. Only a function that returns the state (the consumer kit's TumblingWindowConsumer) may have a window."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : consumer.memory_size >= 128 && consumer.memory_size <= 10240 && floor(consumer.memory_size) == consumer.memory_size])
    error_message = "Each consumer's memory_size must be a whole number of MB between 128 and 10,240."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : consumer.timeout >= 1 && consumer.timeout <= 900 && floor(consumer.timeout) == consumer.timeout])
    error_message = "Each consumer's timeout must be a whole number of seconds between 1 and 900."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : consumer.reserved_concurrent_executions == -1 || (consumer.reserved_concurrent_executions >= 1 && floor(consumer.reserved_concurrent_executions) == consumer.reserved_concurrent_executions)])
    error_message = "Each consumer's reserved_concurrent_executions must be -1 (no reservation) or a whole number of at least 1."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : length(setintersection(keys(consumer.environment_variables), ["DLQ_URL", "FIELD_ENCRYPTION_KEY_ARN", "PAYLOAD_BUCKET", "PAYLOAD_KEY_PREFIX", "POWERTOOLS_METRICS_NAMESPACE", "SENSITIVE_FIELDS", "TABLE_NAME"])) == 0])
    error_message = "A consumer's environment_variables must not set DLQ_URL, FIELD_ENCRYPTION_KEY_ARN, PAYLOAD_BUCKET, PAYLOAD_KEY_PREFIX, POWERTOOLS_METRICS_NAMESPACE, SENSITIVE_FIELDS or TABLE_NAME: the pipeline sets them (TABLE_NAME from write_results_table or table_name, the field encryption pair from sensitive_fields)."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : !(consumer.write_results_table && consumer.table_name != null)])
    error_message = "A consumer takes write_results_table = true or a table_name, not both: TABLE_NAME names one table."
  }

  validation {
    condition     = alltrue([for consumer in values(var.consumers) : consumer.table_name == null || can(regex("^[a-zA-Z0-9_.-]{3,255}$", coalesce(consumer.table_name, "-")))])
    error_message = "Each consumer's table_name must be null or a DynamoDB table name: 3-255 characters of a-z, A-Z, 0-9, '_', '-' and '.' (a name, not an ARN)."
  }

  validation {
    condition     = alltrue(flatten([for consumer in values(var.consumers) : [for statement in consumer.iam_statements : [for action in statement.actions : can(regex("^[a-z0-9-]+:[A-Za-z0-9]+$", action))]]]))
    error_message = "Each action of a consumer's iam_statements must be one service:Action (e.g. ses:SendEmail), with no * anywhere: grant the actions the consumer calls, not a wildcard."
  }

  validation {
    condition     = alltrue(flatten([for consumer in values(var.consumers) : [for statement in consumer.iam_statements : length(statement.actions) >= 1 && length(statement.resources) >= 1]]))
    error_message = "Each of a consumer's iam_statements needs at least one action and at least one resource."
  }

  validation {
    condition = alltrue([for consumer in values(var.consumers) : alltrue([
      for statement in consumer.iam_statements : can(regex("^[A-Za-z0-9]{1,100}$", statement.sid)) && !contains(["DecryptSource", "EncryptSensitiveFields", "ListOnFailureBucket", "PublishOnFailure", "PutOnFailureObjects", "PutPayloadObjects", "ReadDynamoDBStream", "ReadKinesisStream", "SendOnFailure", "SendToDeadLetterQueue", "SignDlqEnvelopes", "SubscribeToConsumer", "UseHydratingDlqKey", "UseIdempotencyTableKey", "UseKeys", "WriteTables", "WriteTraces"], statement.sid)
    ]) && length(distinct([for statement in consumer.iam_statements : statement.sid])) == length(consumer.iam_statements)])
    error_message = "Each sid of a consumer's iam_statements must be 1-100 characters of [A-Za-z0-9], unique within the consumer, and none of the module's own: DecryptSource, EncryptSensitiveFields, ListOnFailureBucket, PublishOnFailure, PutOnFailureObjects, PutPayloadObjects, ReadDynamoDBStream, ReadKinesisStream, SendOnFailure, SendToDeadLetterQueue, SignDlqEnvelopes, SubscribeToConsumer, UseHydratingDlqKey, UseIdempotencyTableKey, UseKeys, WriteTables, WriteTraces."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Fail any plan that would destroy or replace the stream, the DLQ or the on-failure topic, a terraform destroy included (on in production). Removing a pipeline on purpose: see the README."
  default     = true
  nullable    = false
}

variable "dependencies_layer_package" {
  type        = string
  description = "Path of the dependencies layer zip built by `make package` (build/dependencies-python3.12-arm64.zip); every function runs on its runtime and architecture."
  nullable    = false

  validation {
    condition     = endswith(lower(var.dependencies_layer_package), ".zip")
    error_message = "dependencies_layer_package must be the path of a .zip file (build/dependencies-python3.12-arm64.zip)."
  }
}

variable "email_notifier" {
  type = object({
    enabled                           = optional(bool, true)
    sender_address                    = optional(string)
    create_identity                   = optional(bool, false)
    identity                          = optional(string)
    event_types                       = optional(list(string), ["purchase"])
    idempotency_expires_after_seconds = optional(number, 2592000)
    batch_size                        = optional(number, 10)
    maximum_retry_attempts            = optional(number, 5)
    memory_size                       = optional(number, 256)
    timeout                           = optional(number, 60)
    recipients = optional(object({
      allowed_domains   = optional(list(string), [])
      mailbox_simulator = optional(string)
    }), {})
    rate_limit = optional(object({
      max_emails     = optional(number, 5)
      window_seconds = optional(number, 3600)
    }), {})
    configuration_set = optional(object({
      bounce_rate_alarm_threshold    = optional(number, 0.025)
      complaint_rate_alarm_threshold = optional(number, 0.0005)
      cloudwatch_event_destination   = optional(bool, true)
    }), {})
  })
  description = "The e-mail notifier, a second consumer (<name>-notifier) that sends one SES e-mail per event of event_types through its own enhanced fan-out consumer. Deployed when set (enabled defaults to true); the default, { enabled = false }, deploys none. sender_address (required when enabled) is the From address; identity the SES identity that authorises it (the address, its domain or a parent domain; default the address), created when create_identity is true and otherwise an existing, verified one; event_types the eventType values that invoke the function (1-20 with an e-mail template in the function: purchase; default [\"purchase\"]); idempotency_expires_after_seconds how long a sent e-mail is remembered (86,400-34,560,000, at least the stream retention plus 14 days; default 30 days); batch_size 1-10,000 (default 10); maximum_retry_attempts 0-10,000 (default 5, bounded); memory_size 128-10,240 MB; timeout 1-900 s. Abuse limits: recipients.allowed_domains (required: 1-100 domain names a recipient may have, exact match; [\"*\"] alone for any domain) and recipients.mailbox_simulator (null, or success, bounce, ooto, complaint or suppressionlist: every allowed recipient is replaced by that SES mailbox simulator address; for environments outside prod); rate_limit.max_emails (1-1,000, default 5) e-mails per recipient per rate_limit.window_seconds (60-604,800, default 3,600), the rest dead-lettered as email-notifier.RECIPIENT_RATE_LIMITED; the module's SES configuration set <name>-notifier (used on every send, reputation metrics on) alarms when its bounce rate exceeds configuration_set.bounce_rate_alarm_threshold (a fraction, above 0 and below 0.05, AWS's review level; default 0.025) or its complaint rate configuration_set.complaint_rate_alarm_threshold (above 0 and below 0.001; default 0.0005); configuration_set.cloudwatch_event_destination (default true) publishes its SEND, BOUNCE and COMPLAINT events to CloudWatch (false only where the API is missing: the local emulator)."
  default     = { enabled = false }
  nullable    = false

  validation {
    condition     = !var.email_notifier.enabled ? true : can(regex("^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}$", var.email_notifier.sender_address))
    error_message = "email_notifier.sender_address is required when the notifier is enabled and must be an e-mail address of the form name@example.com."
  }

  validation {
    condition = !var.email_notifier.enabled || var.email_notifier.identity == null || var.email_notifier.sender_address == null ? true : try(
      lower(var.email_notifier.identity) == lower(var.email_notifier.sender_address) ||
      endswith(lower(var.email_notifier.sender_address), "@${lower(var.email_notifier.identity)}") ||
      endswith(lower(var.email_notifier.sender_address), ".${lower(var.email_notifier.identity)}"),
      false,
    )
    error_message = "email_notifier.identity must be null, the sender address itself, its domain (example.com for name@example.com) or a parent domain of it: SES authorises a From address only through one of those identities."
  }


  validation {
    condition     = !var.email_notifier.enabled ? true : length(var.email_notifier.event_types) >= 1 && length(var.email_notifier.event_types) <= 20 && length(distinct(var.email_notifier.event_types)) == length(var.email_notifier.event_types)
    error_message = "email_notifier.event_types must hold 1-20 distinct event types: an empty list would filter out every record."
  }

  # The function refuses to start with an event type it has no e-mail template for
  # (functions/email_notifier/templates.py): keep this list in step with its TEMPLATES.
  validation {
    condition     = !var.email_notifier.enabled ? true : alltrue([for t in var.email_notifier.event_types : contains(["purchase"], t)])
    error_message = "Each email_notifier.event_types entry must be an event type the email_notifier function has an e-mail template for: purchase."
  }

  validation {
    condition     = !var.email_notifier.enabled ? true : var.email_notifier.idempotency_expires_after_seconds >= 86400 && var.email_notifier.idempotency_expires_after_seconds <= 34560000 && floor(var.email_notifier.idempotency_expires_after_seconds) == var.email_notifier.idempotency_expires_after_seconds
    error_message = "email_notifier.idempotency_expires_after_seconds must be a whole number between 86,400 (1 day) and 34,560,000 (400 days)."
  }

  validation {
    condition     = !var.email_notifier.enabled ? true : var.email_notifier.batch_size >= 1 && var.email_notifier.batch_size <= 10000 && floor(var.email_notifier.batch_size) == var.email_notifier.batch_size
    error_message = "email_notifier.batch_size must be a whole number between 1 and 10,000."
  }

  validation {
    condition     = !var.email_notifier.enabled ? true : var.email_notifier.maximum_retry_attempts >= 0 && var.email_notifier.maximum_retry_attempts <= 10000 && floor(var.email_notifier.maximum_retry_attempts) == var.email_notifier.maximum_retry_attempts
    error_message = "email_notifier.maximum_retry_attempts must be a whole number between 0 and 10,000 (bounded: -1, retry until the record expires, is not accepted)."
  }

  validation {
    condition     = !var.email_notifier.enabled ? true : var.email_notifier.memory_size >= 128 && var.email_notifier.memory_size <= 10240 && floor(var.email_notifier.memory_size) == var.email_notifier.memory_size
    error_message = "email_notifier.memory_size must be a whole number of MB between 128 and 10,240."
  }

  validation {
    condition     = !var.email_notifier.enabled ? true : var.email_notifier.timeout >= 1 && var.email_notifier.timeout <= 900 && floor(var.email_notifier.timeout) == var.email_notifier.timeout
    error_message = "email_notifier.timeout must be a whole number of seconds between 1 and 900."
  }

  # Deny by default: a notifier without a recipient policy would mail whatever address a record
  # names, from the company's verified identity.
  validation {
    condition = !var.email_notifier.enabled ? true : (
      jsonencode(var.email_notifier.recipients.allowed_domains) == jsonencode(["*"]) || (
        length(var.email_notifier.recipients.allowed_domains) >= 1 &&
        length(var.email_notifier.recipients.allowed_domains) <= 100 &&
        alltrue([for d in var.email_notifier.recipients.allowed_domains : can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,62}$", d))])
      )
    )
    error_message = "email_notifier.recipients.allowed_domains must list 1-100 lowercase domain names (example.com; exact match, no subdomains implied) that recipients may have, or be [\"*\"] alone to allow every domain."
  }

  # They reach the function as one environment variable; Lambda allows 4 KB for all of them.
  validation {
    condition     = !var.email_notifier.enabled ? true : length(join(",", var.email_notifier.recipients.allowed_domains)) <= 2048
    error_message = "email_notifier.recipients.allowed_domains must fit in 2,048 characters once joined with commas (the function reads them from one environment variable, and Lambda allows 4 KB for all of them)."
  }

  validation {
    condition     = !var.email_notifier.enabled ? true : var.email_notifier.recipients.mailbox_simulator == null || contains(["success", "bounce", "ooto", "complaint", "suppressionlist"], coalesce(var.email_notifier.recipients.mailbox_simulator, "-"))
    error_message = "email_notifier.recipients.mailbox_simulator must be null (send to the real recipients) or an SES mailbox simulator scenario: success, bounce, ooto, complaint or suppressionlist."
  }

  validation {
    condition     = !var.email_notifier.enabled ? true : var.email_notifier.rate_limit.max_emails >= 1 && var.email_notifier.rate_limit.max_emails <= 1000 && floor(var.email_notifier.rate_limit.max_emails) == var.email_notifier.rate_limit.max_emails
    error_message = "email_notifier.rate_limit.max_emails must be a whole number of e-mails per recipient and window between 1 and 1,000."
  }

  validation {
    condition     = !var.email_notifier.enabled ? true : var.email_notifier.rate_limit.window_seconds >= 60 && var.email_notifier.rate_limit.window_seconds <= 604800 && floor(var.email_notifier.rate_limit.window_seconds) == var.email_notifier.rate_limit.window_seconds
    error_message = "email_notifier.rate_limit.window_seconds must be a whole number of seconds between 60 and 604,800 (7 days)."
  }

  validation {
    condition     = !var.email_notifier.enabled ? true : var.email_notifier.configuration_set.bounce_rate_alarm_threshold > 0 && var.email_notifier.configuration_set.bounce_rate_alarm_threshold < 0.05
    error_message = "email_notifier.configuration_set.bounce_rate_alarm_threshold must be a fraction above 0 and below 0.05 (5 %, the bounce rate at which AWS reviews the account): the alarm must fire before the review."
  }

  validation {
    condition     = !var.email_notifier.enabled ? true : var.email_notifier.configuration_set.complaint_rate_alarm_threshold > 0 && var.email_notifier.configuration_set.complaint_rate_alarm_threshold < 0.001
    error_message = "email_notifier.configuration_set.complaint_rate_alarm_threshold must be a fraction above 0 and below 0.001 (0.1 %, the complaint rate at which AWS reviews the account): the alarm must fire before the review."
  }
}

variable "email_notifier_package" {
  type        = string
  description = "Path of the email_notifier function's zip built by `make package` (build/email_notifier.zip); required when email_notifier is enabled, ignored otherwise."
  default     = null

  validation {
    condition     = var.email_notifier_package == null || endswith(coalesce(var.email_notifier_package, "-"), ".zip")
    error_message = "email_notifier_package must be null or the path of a .zip file (build/email_notifier.zip)."
  }
}

variable "enable_s3_failure_bucket" {
  type        = bool
  description = "Create the hydrating DLQ's failure bucket (the default): hydrate and every consumer store there the payloads too large for an SQS message (claim-check: PAYLOAD_BUCKET; each consumer under its own PAYLOAD_KEY_PREFIX claim-check/<function name>/, the only keys its role may put). false: such envelopes reach the DLQ pointer-only, and their bytes live only in the stream until its retention ends."
  default     = true
  nullable    = false
}

variable "failure_bucket_access_logging" {
  type = object({
    enabled         = optional(bool, false)
    expiration_days = optional(number, 365)
    target_bucket   = optional(string)
  })
  description = "S3 server access logging of the failure bucket (hydrating-dlq's access_logging, which validates it): enabled (default false); target_bucket, an existing log bucket of the organisation, or null for one the pipeline creates (<name>-access-logs-<suffix>, SSE-S3, TLS-only), whose logs expire after expiration_days, 1-3650 (default 365). Used only with enable_s3_failure_bucket."
  default     = {}
  nullable    = false
}

variable "hydrate" {
  type = object({
    maximum_event_age_in_seconds = optional(number, 21600)
    maximum_retry_attempts       = optional(number, 2)
  })
  description = "The hydrate function's asynchronous retries: maximum_event_age_in_seconds 60-21,600 (default 21,600) that Lambda keeps retrying a notification it could not handle, maximum_retry_attempts 0-2 (default 2). The event age counts against the stream's retention (see retention_period)."
  default     = {}
  nullable    = false

  validation {
    condition     = var.hydrate.maximum_event_age_in_seconds >= 60 && var.hydrate.maximum_event_age_in_seconds <= 21600 && floor(var.hydrate.maximum_event_age_in_seconds) == var.hydrate.maximum_event_age_in_seconds
    error_message = "hydrate.maximum_event_age_in_seconds must be a whole number between 60 and 21,600 (6 hours)."
  }

  validation {
    condition     = var.hydrate.maximum_retry_attempts >= 0 && var.hydrate.maximum_retry_attempts <= 2 && floor(var.hydrate.maximum_retry_attempts) == var.hydrate.maximum_retry_attempts
    error_message = "hydrate.maximum_retry_attempts must be a whole number between 0 and 2 (the Lambda limit for asynchronous invocations)."
  }
}

variable "hydrate_package" {
  type        = string
  description = "Path of the hydrate function's zip built by `make package` (build/hydrate.zip)."
  nullable    = false
}

variable "layers" {
  type        = list(string)
  description = "Layer version ARNs attached to every function after the dependencies layer (at most 4)."
  default     = []
  nullable    = false

  validation {
    condition     = length(var.layers) <= 4 && !contains(var.layers, "powertools")
    error_message = "layers holds at most 4 layer version ARNs (the dependencies layer is the fifth); \"powertools\" is no longer accepted: the dependencies layer carries the tested Powertools."
  }
}

variable "log_retention_in_days" {
  type        = number
  description = "Retention of the functions' log groups, one of the CloudWatch Logs values (0 = forever)."
  default     = 365
  nullable    = false
}

variable "maximum_batching_window_in_seconds" {
  type        = number
  description = "Seconds an event source mapping may wait to fill a batch (0–300): the default of every consumer that does not set its own, and the e-mail notifier's."
  default     = 1
  nullable    = false
}

variable "maximum_record_age_in_seconds" {
  type        = number
  description = "Age after which a failing record goes to the on-failure path (60–604,800; with the hydrate window and an hour it must fit in retention_period). The default of every consumer that does not set its own, and the e-mail notifier's."
  default     = 21600
  nullable    = false

  validation {
    condition     = var.maximum_record_age_in_seconds >= 60 && var.maximum_record_age_in_seconds <= 604800 && floor(var.maximum_record_age_in_seconds) == var.maximum_record_age_in_seconds
    error_message = "maximum_record_age_in_seconds must be a whole number between 60 and 604,800 (bounded: -1, no limit, would let a failing record wait until the stream drops it)."
  }
}

variable "min_incoming_records_per_period" {
  type        = number
  description = "Alarm when the stream receives fewer records than this in 5 minutes; null disables it (environments without steady traffic)."
  default     = null
}

variable "name" {
  type        = string
  description = "Base name of every resource (1–40 characters of [a-z0-9-], starting with a letter or digit): the stream, <name>-processor, <name>-results, <name>-dlq, ..."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters of [a-z0-9-], starting with a letter or digit."
  }
}

variable "parallelization_factor" {
  type        = number
  description = "Concurrent batches per shard (1–10; order is kept per partition key): the default of every consumer that does not set its own, and the e-mail notifier's."
  default     = 1
  nullable    = false
}

variable "replay_role_arns" {
  type        = list(string)
  description = "ARNs of the IAM roles that run the replay CLI (docs/replay.md): the only principals, besides the account root (break-glass), that may receive, delete or change the visibility of DLQ messages, and that the envelopes' MAC key lets verify (kms:VerifyMac). Empty (the default): nobody but the account root reads the DLQ until a role is named."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.replay_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[a-zA-Z0-9+=,.@_/-]{1,512}$", arn))])
    error_message = "Each replay_role_arns entry must be an IAM role ARN of the form arn:<partition>:iam::<account>:role/<name> (the role the replay runs with, not a user or a session ARN)."
  }
}

variable "results_table_deletion_protection" {
  type        = bool
  description = "Protect the results table from deletion (on in production)."
  default     = true
  nullable    = false
}

variable "retention_period" {
  type        = number
  description = "Hours the stream keeps records (24–8,760); the time failed batches can still be hydrated and replayed. It must hold the longest on-failure path with a margin: every maximum_record_age_in_seconds + hydrate.maximum_event_age_in_seconds + 1 hour."
  default     = 168
  nullable    = false

  # The on-failure record holds only coordinates: hydrate must re-read the payload before the
  # stream drops it, or the record is lost (a weekend-long maximum record age on a 24 h stream).
  validation {
    condition     = local.on_failure_deadline.needed_seconds < var.retention_period * 3600
    error_message = "Pipeline ${var.name}: the stream drops records before a failed one can be hydrated: retention_period = ${var.retention_period} hours (${var.retention_period * 3600} s) must exceed the longest maximum_record_age_in_seconds (${local.on_failure_deadline.longest_label}) + hydrate.maximum_event_age_in_seconds (${var.hydrate.maximum_event_age_in_seconds} s) + a ${local.on_failure_deadline.margin_seconds} s margin. Lower the record age or raise retention_period."
  }
}

variable "sensitive_fields" {
  description = "Attributes of the results table's items stored encrypted field by field (AWS Encryption SDK, a KMS key of their own, encryption context {table, field}): the consumers writing the table encrypt them and cannot decrypt them; results_reader_policy_json decrypts them. Names of 1-255 characters of [A-Za-z0-9_.-], at most 20, not the table's keys (userId, eventKey). Default: the retail event's e-mail address. [] stores every field in clear."
  type        = list(string)
  default     = ["email"]
  nullable    = false

  validation {
    condition     = length(var.sensitive_fields) <= 20 && alltrue([for field in var.sensitive_fields : can(regex("^[A-Za-z0-9_.-]{1,255}$", field))])
    error_message = "sensitive_fields holds at most 20 attribute names, each 1-255 characters of [A-Za-z0-9_.-]."
  }

  validation {
    condition     = length(setintersection(var.sensitive_fields, ["userId", "eventKey"])) == 0
    error_message = "sensitive_fields must not name the results table's keys (userId, eventKey): keys are stored in clear to be queried."
  }
}

variable "shard_count" {
  type        = number
  description = "Shards of a PROVISIONED stream (at least 1); null for ON_DEMAND."
  default     = null
}

variable "shard_level_metrics" {
  type        = list(string)
  description = "Enhanced shard-level CloudWatch metrics of the stream."
  default     = []
  nullable    = false
}

variable "stream_mode" {
  type        = string
  description = "ON_DEMAND or PROVISIONED capacity for the stream."
  default     = "ON_DEMAND"
  nullable    = false
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource (environments also set provider default_tags)."
  default     = {}
  nullable    = false
}
