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

variable "batch_size" {
  type        = number
  description = "Records per consumer invocation (1–10,000)."
  default     = 100
  nullable    = false
}

variable "consumer_memory_size" {
  type        = number
  description = "Memory of the stream_processor function in MB (128–10,240)."
  default     = 256
  nullable    = false
}

variable "consumer_reserved_concurrent_executions" {
  type        = number
  description = "Reserved concurrency of the stream_processor function: -1 for none, or at least 1."
  default     = -1
  nullable    = false
}

variable "consumer_timeout" {
  type        = number
  description = "Timeout of the stream_processor function in seconds (1–900)."
  default     = 60
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
    configuration_set_name            = optional(string)
    event_types                       = optional(list(string), ["purchase"])
    idempotency_expires_after_seconds = optional(number, 2592000)
    batch_size                        = optional(number, 10)
    maximum_retry_attempts            = optional(number, 5)
    memory_size                       = optional(number, 256)
    timeout                           = optional(number, 60)
  })
  description = "The e-mail notifier, a second consumer (<name>-notifier) that sends one SES e-mail per event of event_types through its own enhanced fan-out consumer. Deployed when set (enabled defaults to true); the default, { enabled = false }, deploys none. sender_address (required when enabled) is the From address; identity the SES identity that authorises it (the address, its domain or a parent domain; default the address), created when create_identity is true and otherwise an existing, verified one; configuration_set_name an existing SES configuration set (optional); event_types the eventType values that invoke the function (1-20 with an e-mail template in the function: purchase; default [\"purchase\"]); idempotency_expires_after_seconds how long a sent e-mail is remembered (86,400-34,560,000, at least the stream retention plus 14 days; default 30 days); batch_size 1-10,000 (default 10); maximum_retry_attempts 0-10,000 (default 5, bounded); memory_size 128-10,240 MB; timeout 1-900 s."
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
    condition     = !var.email_notifier.enabled ? true : var.email_notifier.configuration_set_name == null || can(regex("^[a-zA-Z0-9_-]{1,64}$", coalesce(var.email_notifier.configuration_set_name, "-")))
    error_message = "email_notifier.configuration_set_name must be null or an SES configuration set name: 1-64 characters from [a-zA-Z0-9_-]."
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
  description = "Create the hydrating DLQ's failure bucket: hydrate and every consumer store there the payloads too large for an SQS message (claim-check, PAYLOAD_BUCKET)."
  default     = false
  nullable    = false
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
  description = "Seconds the consumer's event source mapping may wait to fill a batch (0–300)."
  default     = 1
  nullable    = false
}

variable "maximum_record_age_in_seconds" {
  type        = number
  description = "Age after which a failing record goes to the on-failure path (-1 or 60–604,800); must stay well below retention_period."
  default     = 21600
  nullable    = false
}

variable "maximum_retry_attempts" {
  type        = number
  description = "Retries of a failing batch before it goes to the on-failure path (-1–10,000)."
  default     = 10
  nullable    = false
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
  description = "Concurrent batches per shard for the consumer (1–10); order is kept per partition key."
  default     = 1
  nullable    = false
}

variable "results_table_deletion_protection" {
  type        = bool
  description = "Protect the results table from deletion (on in production)."
  default     = true
  nullable    = false
}

variable "retention_period" {
  type        = number
  description = "Hours the stream keeps records (24–8,760); the time failed batches can still be hydrated and replayed."
  default     = 168
  nullable    = false
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

variable "stream_processor_package" {
  type        = string
  description = "Path of the stream_processor function's zip built by `make package` (build/stream_processor.zip)."
  nullable    = false
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource (environments also set provider default_tags)."
  default     = {}
  nullable    = false
}

variable "use_enhanced_fan_out" {
  type        = bool
  description = "Read the stream through a dedicated enhanced fan-out consumer (2 MB/s per shard of its own, ~70 ms latency) instead of shared GetRecords polling."
  default     = true
  nullable    = false
}
