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

variable "enable_s3_failure_bucket" {
  type        = bool
  description = "Create the hydrating DLQ's failure bucket (claim-checks for records too large for an SQS message)."
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
  description = "Layers of both functions; \"powertools\" stands for the public Powertools layer. [] against the local emulator, which refuses public layers."
  default     = ["powertools"]
  nullable    = false
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
