variable "aggregates" {
  type = object({
    deletion_protection      = optional(bool, true)
    retention_days           = optional(number, 90)
    stored_products_per_type = optional(number, 50)
  })
  description = "The aggregates table: deletion_protection (default true), retention_days 1-3,650 (default 90: an item expires, by DynamoDB TTL on expiresAt, that long after its window's end), stored_products_per_type 1-200 (default 50: products kept per event type in a window's item, ranked by count; the rest are summed in otherProducts)."
  default     = {}
  nullable    = false

  validation {
    condition     = var.aggregates.retention_days >= 1 && var.aggregates.retention_days <= 3650 && floor(var.aggregates.retention_days) == var.aggregates.retention_days
    error_message = "aggregates.retention_days must be a whole number between 1 and 3,650."
  }

  validation {
    condition     = var.aggregates.stored_products_per_type >= 1 && var.aggregates.stored_products_per_type <= 200 && floor(var.aggregates.stored_products_per_type) == var.aggregates.stored_products_per_type
    error_message = "aggregates.stored_products_per_type must be a whole number between 1 and 200 (an item stays far below DynamoDB's 400 KB)."
  }
}

variable "consumer_settings" {
  type = object({
    batch_size                         = optional(number, 500)
    enhanced_fan_out                   = optional(bool, true)
    maximum_batching_window_in_seconds = optional(number)
    memory_size                        = optional(number, 256)
    timeout                            = optional(number, 60)
    tumbling_window_in_seconds         = optional(number, 60)
  })
  description = "The aggregator's function and event source mapping, passed on in the consumer output: batch_size 1-10,000 (default 500), enhanced_fan_out (default true), maximum_batching_window_in_seconds null (the pipeline's) or 0-300, memory_size 128-10,240 MB (default 256), timeout 1-900 s (default 60), tumbling_window_in_seconds 1-900 (default 60: the length of a window; windows are per shard, aligned on multiples of it, records assigned by arrival time)."
  default     = {}
  nullable    = false

  validation {
    condition     = var.consumer_settings.batch_size >= 1 && var.consumer_settings.batch_size <= 10000 && floor(var.consumer_settings.batch_size) == var.consumer_settings.batch_size
    error_message = "consumer_settings.batch_size must be a whole number between 1 and 10,000."
  }

  validation {
    condition     = var.consumer_settings.maximum_batching_window_in_seconds == null || try(var.consumer_settings.maximum_batching_window_in_seconds >= 0 && var.consumer_settings.maximum_batching_window_in_seconds <= 300 && floor(var.consumer_settings.maximum_batching_window_in_seconds) == var.consumer_settings.maximum_batching_window_in_seconds, false)
    error_message = "consumer_settings.maximum_batching_window_in_seconds must be null (the pipeline's) or a whole number between 0 and 300."
  }

  validation {
    condition     = var.consumer_settings.memory_size >= 128 && var.consumer_settings.memory_size <= 10240 && floor(var.consumer_settings.memory_size) == var.consumer_settings.memory_size
    error_message = "consumer_settings.memory_size must be a whole number of MB between 128 and 10,240."
  }

  validation {
    condition     = var.consumer_settings.timeout >= 1 && var.consumer_settings.timeout <= 900 && floor(var.consumer_settings.timeout) == var.consumer_settings.timeout
    error_message = "consumer_settings.timeout must be a whole number of seconds between 1 and 900."
  }

  validation {
    condition     = var.consumer_settings.tumbling_window_in_seconds >= 1 && var.consumer_settings.tumbling_window_in_seconds <= 900 && floor(var.consumer_settings.tumbling_window_in_seconds) == var.consumer_settings.tumbling_window_in_seconds
    error_message = "consumer_settings.tumbling_window_in_seconds must be a whole number between 1 and 900 (the aggregator needs a window)."
  }
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace the aggregator's EMF metrics land in: the pipeline's (modules/pipeline output metrics_namespace, StreamPipeline/<name>), which it sets as POWERTOOLS_METRICS_NAMESPACE. The dashboard reads it. 1-255 characters, not starting with AWS/."
  nullable    = false

  validation {
    condition     = length(var.metrics_namespace) >= 1 && length(var.metrics_namespace) <= 255 && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters and must not start with AWS/ (reserved for AWS services)."
  }
}

variable "name" {
  type        = string
  description = "Prefix of every resource name (the pipeline's name): the table <name>-trending-aggregates, the dashboard <name>-trending. 1-40 characters of [a-z0-9-], starting with a letter or digit."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters of [a-z0-9-], starting with a letter or digit."
  }
}

variable "package" {
  type = object({
    filename         = optional(string)
    python           = optional(string, "python3")
    source_code_hash = optional(string)
    source_dir       = optional(string)
  })
  description = "The aggregator's code, as modules/pipeline's consumers take it: exactly one of filename (the zip `make package` builds, build/trending_aggregator.zip) or source_dir (a folder holding trending_aggregator/, zipped at apply with the consumer kit)."
  nullable    = false

  validation {
    condition     = (var.package.filename == null) != (var.package.source_dir == null)
    error_message = "package needs exactly one of filename (a prebuilt zip) or source_dir (a folder of Python sources)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource the module creates."
  default     = {}
  nullable    = false
}
