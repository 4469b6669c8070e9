# Inputs passed through to modules/lambda-function are validated there: Terraform reports its error message, which names what is allowed.

variable "additional_policy_json" {
  type        = string
  description = "IAM policy JSON with application-specific permissions (for example ses:SendEmail on one identity), merged into the role's inline policy. Use your own statement IDs: a statement reusing one of the module's (ReadKinesisStream, SubscribeToConsumer, ReadDynamoDBStream, WriteTables, SendToDeadLetterQueue, PublishOnFailure, SendOnFailure, PutOnFailureObjects, ListOnFailureBucket, UseKeys, WriteTraces) is replaced by the module's."
  default     = null

  validation {
    condition     = var.additional_policy_json == null || can(jsondecode(var.additional_policy_json).Statement)
    error_message = "additional_policy_json must be null or an IAM policy document in JSON with a Statement element."
  }
}

variable "allow_no_on_failure_destination" {
  type        = bool
  description = "Explicit opt-out of the on-failure destination. When false (the default) on_failure_destination_arn is required, because without it a batch that exhausts its retries or ages out is discarded without a trace."
  default     = false
  nullable    = false
}

variable "application_log_level" {
  type        = string
  description = "Lowest level of the function's own log lines that Lambda sends to CloudWatch Logs (JSON log format): TRACE, DEBUG, INFO, WARN, ERROR or FATAL."
  default     = "INFO"
  nullable    = false
}

variable "architectures" {
  type        = list(string)
  description = "Instruction set of the function, as a one-element list: [\"arm64\"] (Graviton, the default: cheaper per GB-second) or [\"x86_64\"] (the one its dependencies layer was built for)."
  default     = ["arm64"]
  nullable    = false
}

variable "batch_size" {
  type        = number
  description = "Maximum number of records per invocation, 1 to 10,000."
  default     = 100
  nullable    = false

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000 && floor(var.batch_size) == var.batch_size
    error_message = "batch_size must be a whole number between 1 and 10,000."
  }
}

variable "bisect_batch_on_function_error" {
  type        = bool
  description = "Split a failing batch in two and retry each half, so a poison record is isolated instead of blocking the shard with its whole batch. Splitting does not consume retry attempts."
  default     = true
  nullable    = false
}

variable "code_signing_config_arn" {
  type        = string
  description = "ARN of a Lambda code signing configuration. When set, Lambda only deploys packages signed by its allowed signing profiles; when null the package is deployed unsigned (its integrity still pinned by source_code_hash)."
  default     = null
}

variable "create_kms_key" {
  type        = bool
  description = "Whether the function's key is created when kms_key_arn is null (the default, true). Set it to false, with kms_key_arn, when that ARN is known only after apply (e.g. the key_arn of a kms-key module in the same configuration): passed to lambda-function, which then knows at plan time that it creates no key."
  default     = true
  nullable    = false
}

variable "description" {
  type        = string
  description = "Description of the Lambda function (up to 256 characters)."
  default     = null
}

variable "dlq_arn" {
  type        = string
  description = "ARN of the SQS dead-letter queue the function itself sends poison records to (granted sqs:SendMessage, which also covers SendMessageBatch). Null when the function has no dead-letter queue. Pass its key in kms_key_arns when the queue is KMS-encrypted."
  default     = null

  validation {
    condition     = var.dlq_arn == null || can(regex("^arn:aws[a-z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[a-zA-Z0-9_-]{1,80}(\\.fifo)?$", var.dlq_arn))
    error_message = "dlq_arn must be null or an SQS queue ARN of the form arn:<partition>:sqs:<region>:<account>:<queue-name>."
  }
}

variable "dynamodb_table_arns" {
  type        = list(string)
  description = "ARNs of the DynamoDB tables the function writes to (granted dynamodb:BatchWriteItem and dynamodb:PutItem, nothing else). Pass their keys in kms_key_arns when they use customer managed keys."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.dynamodb_table_arns : can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[a-zA-Z0-9_.-]{3,255}$", arn))])
    error_message = "Each dynamodb_table_arns entry must be a DynamoDB table ARN of the form arn:<partition>:dynamodb:<region>:<account>:table/<name>."
  }
}

variable "enabled" {
  type        = bool
  description = "Whether the event source mapping polls the source. Set false to pause consumption without losing the position: records wait in the stream (up to its retention)."
  default     = true
  nullable    = false
}

variable "environment_variables" {
  type        = map(string)
  description = "Environment variables of the function, encrypted at rest with the module's KMS key. POWERTOOLS_SERVICE_NAME defaults to name and POWERTOOLS_METRICS_NAMESPACE to StreamPipeline/<name> unless set here."
  default     = {}
  nullable    = false
}

variable "event_source_arn" {
  type        = string
  description = "ARN the event source mapping reads: a Kinesis data stream (arn:...:kinesis:...:stream/<name>), an enhanced fan-out consumer of one (arn:...:kinesis:...:stream/<name>/consumer/<consumer>:<timestamp>), or a DynamoDB stream (arn:...:dynamodb:...:table/<name>/stream/<label>). The type is detected from the ARN and decides the read permissions granted."
  nullable    = false

  validation {
    condition = anytrue([
      can(regex("^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[a-zA-Z0-9_.-]{1,128}$", var.event_source_arn)),
      can(regex("^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[a-zA-Z0-9_.-]{1,128}/consumer/[a-zA-Z0-9_.-]{1,128}:[0-9]+$", var.event_source_arn)),
      can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[a-zA-Z0-9_.-]{3,255}/stream/[0-9A-Za-z:.T_-]+$", var.event_source_arn)),
    ])
    error_message = "event_source_arn must be a Kinesis stream ARN (arn:<partition>:kinesis:<region>:<account>:stream/<name>), a Kinesis enhanced fan-out consumer ARN (.../stream/<name>/consumer/<consumer>:<timestamp>) or a DynamoDB stream ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>/stream/<label>)."
  }
}

variable "filter_criteria" {
  type        = list(string)
  description = "Event filtering patterns, each a JSON object (e.g. jsonencode({ data = { type = [\"purchase\"] } })). A record is delivered when it matches any pattern; records matching none are dropped by Lambda before invocation, on purpose. At most 10 (the default quota is 5)."
  default     = []
  nullable    = false

  validation {
    condition     = length(var.filter_criteria) <= 10
    error_message = "filter_criteria holds at most 10 patterns per event source mapping."
  }

  validation {
    condition     = alltrue([for p in var.filter_criteria : can(keys(jsondecode(p)))])
    error_message = "Each filter_criteria entry must be a JSON object (a Lambda event filtering pattern)."
  }
}

variable "handler" {
  type        = string
  description = "Handler of the function, as <module path>.<function>, e.g. stream_processor.app.lambda_handler."
  nullable    = false
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of an existing customer managed KMS key that encrypts the function's environment variables and its log group. When null (the default) the module creates a dedicated key with rotation, whose policy lets CloudWatch Logs use it for this log group only. A key passed here is not modified: its policy must allow logs.<region>.amazonaws.com for the log group. When the ARN is known only after apply, set create_kms_key = false too."
  default     = null
}

variable "kms_key_arns" {
  type        = list(string)
  description = "ARNs of the customer managed keys protecting what the function and its event source mapping write to: the tables, the dead-letter queue, the on-failure destination (the source's key goes in source_kms_key_arn). Granted kms:Decrypt and kms:GenerateDataKey on exactly these keys, only through the services it writes with (kms:ViaService: DynamoDB with dynamodb_table_arns, SQS with dlq_arn or an SQS destination, SNS or S3 with such a destination); a key used through another service needs a statement of its own in additional_policy_json."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", arn))])
    error_message = "Each kms_key_arns entry must be a KMS key ARN of the form arn:<partition>:kms:<region>:<account>:key/<key-id> (IAM does not match aliases)."
  }
}

variable "kms_key_deletion_window_in_days" {
  type        = number
  description = "Waiting period, in days, before the module-created KMS key is deleted after destroy. Ignored when kms_key_arn is set."
  default     = 30
  nullable    = false
}

variable "layers" {
  type        = list(string)
  description = "Lambda layer version ARNs, in order (at most 5). The library's functions need their dependencies layer (modules/lambda-layer, built by `make package`); [] only for a package that bundles its dependencies."
  nullable    = false
}

variable "log_retention_in_days" {
  type        = number
  description = "Days the function's log group keeps events: one of the CloudWatch Logs values 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, or 0 to keep them forever. Defaults to a year, which audit baselines expect."
  default     = 365
  nullable    = false
}

variable "mapping_metrics" {
  type        = list(string)
  description = "Metric groups the event source mapping publishes to CloudWatch (its metrics_config): [\"EventCount\"] (the default) or [] for none. EventCount is the only group Lambda offers for Kinesis and DynamoDB streams (ErrorCount and KafkaMetrics are for Kafka sources); it adds, per mapping UUID, PolledEventCount, FilteredOutEventCount, InvokedEventCount, FailedInvokeEventCount, DroppedEventCount and OnFailureDestinationDeliveredEventCount, at the price of custom metrics. DroppedEventCount is the alarms module's consumer-dropped-events."
  default     = ["EventCount"]
  nullable    = false

  validation {
    condition     = alltrue([for metric in var.mapping_metrics : metric == "EventCount"]) && length(distinct(var.mapping_metrics)) == length(var.mapping_metrics)
    error_message = "mapping_metrics must be [\"EventCount\"] or []: Lambda publishes no other metric group for Kinesis and DynamoDB stream mappings (ErrorCount and KafkaMetrics are for Kafka sources)."
  }
}

variable "maximum_batching_window_in_seconds" {
  type        = number
  description = "Seconds the mapping may wait to fill a batch before invoking, 0 to 300. 0 (the default) invokes as soon as records arrive."
  default     = 0
  nullable    = false

  validation {
    condition     = var.maximum_batching_window_in_seconds >= 0 && var.maximum_batching_window_in_seconds <= 300 && floor(var.maximum_batching_window_in_seconds) == var.maximum_batching_window_in_seconds
    error_message = "maximum_batching_window_in_seconds must be a whole number between 0 and 300."
  }
}

variable "maximum_record_age_in_seconds" {
  type        = number
  description = "Age after which a record that still cannot be processed is sent to the on-failure destination instead of retried: -1 (until the record expires from the stream) or 60 to 604,800. Keep it well below the stream's retention, so the record is still readable when its failure is handled. The default, 6 hours, leaves 18 hours of a 24-hour retention."
  default     = 21600
  nullable    = false

  validation {
    condition     = var.maximum_record_age_in_seconds == -1 || (var.maximum_record_age_in_seconds >= 60 && var.maximum_record_age_in_seconds <= 604800 && floor(var.maximum_record_age_in_seconds) == var.maximum_record_age_in_seconds)
    error_message = "maximum_record_age_in_seconds must be -1 (infinite) or a whole number between 60 and 604,800 (7 days)."
  }
}

variable "maximum_retry_attempts" {
  type        = number
  description = "Retries of a failing batch before it goes to the on-failure destination: -1 (until the record expires or reaches maximum_record_age_in_seconds) or 0 to 10,000. Bisected halves do not count as retries."
  default     = 10
  nullable    = false

  validation {
    condition     = var.maximum_retry_attempts >= -1 && var.maximum_retry_attempts <= 10000 && floor(var.maximum_retry_attempts) == var.maximum_retry_attempts
    error_message = "maximum_retry_attempts must be a whole number between -1 (infinite) and 10,000."
  }
}

variable "memory_size" {
  type        = number
  description = "Memory of the function in MB, 128 to 10,240 (CPU is allocated in proportion)."
  default     = 256
  nullable    = false
}

variable "name" {
  type        = string
  description = "Name of the Lambda function; also names its log group (/aws/lambda/<name>), its role (unless role_name is set) and its KMS key's description."
  nullable    = false
}

variable "on_failure_destination_arn" {
  type        = string
  description = "Where the event source mapping sends the record of a batch it discards (retries exhausted or record too old): an SNS topic, SQS queue or S3 bucket ARN. The matching permission (sns:Publish, sqs:SendMessage, or s3:PutObject + s3:ListBucket) is granted to the role. Required unless allow_no_on_failure_destination is true. For Kinesis and DynamoDB the SNS/SQS record holds only shard and sequence numbers, not the data: keep the stream retention long enough to re-read it."
  default     = null

  validation {
    condition = var.on_failure_destination_arn == null || anytrue([
      can(regex("^arn:aws[a-z-]*:(sns|sqs):[a-z0-9-]+:[0-9]{12}:[a-zA-Z0-9_.-]{1,256}$", var.on_failure_destination_arn)),
      can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.on_failure_destination_arn)),
    ])
    error_message = "on_failure_destination_arn must be null or the ARN of an SNS topic (arn:<partition>:sns:<region>:<account>:<name>), an SQS queue (arn:<partition>:sqs:<region>:<account>:<name>) or an S3 bucket (arn:<partition>:s3:::<bucket>)."
  }
}

variable "package" {
  type = object({
    filename         = optional(string)
    python           = optional(string, "python3")
    source_code_hash = optional(string)
    source_dir       = optional(string)
  })
  description = "The function's code, exactly one of: filename, a prebuilt deployment zip (e.g. build/stream_processor.zip from `make package`), absolute or relative to the root module's working directory, read at plan time for its hash unless source_code_hash (base64 SHA-256, 44 characters) is given; or source_dir, a folder of Python sources (at least one *.py; the handler's module at its top, e.g. app.py for handler app.lambda_handler) that the module zips at apply with this repository's runtime and consumer kit, into <root module>/.terraform/stream-consumer/<name>-<hash>.zip, running python (default python3, 3.12 or later, standard library only) on the machine that applies."
  nullable    = false

  validation {
    condition     = (var.package.filename == null) != (var.package.source_dir == null)
    error_message = "package must set exactly one of filename (a prebuilt .zip) and source_dir (a folder the module zips)."
  }

  validation {
    condition     = var.package.filename == null || endswith(lower(coalesce(var.package.filename, "-")), ".zip")
    error_message = "package.filename must be the path of a .zip deployment package."
  }

  validation {
    condition     = var.package.source_code_hash == null || (var.package.filename != null && can(regex("^[A-Za-z0-9+/]{43}=$", coalesce(var.package.source_code_hash, "-"))))
    error_message = "package.source_code_hash goes with package.filename only (source_dir's hash is computed) and must be a base64-encoded SHA-256 digest (44 characters ending in =), as filebase64sha256() returns."
  }

  validation {
    condition     = var.package.source_dir == null || length([for f in fileset(coalesce(var.package.source_dir, "."), "**/*.py") : f if !can(regex("(^|/)(\\.|__pycache__/)", f))]) > 0
    error_message = "package.source_dir must be a folder holding at least one Python file (*.py, outside hidden folders): the module of the handler."
  }

  validation {
    condition     = length(trimspace(var.package.python)) > 0
    error_message = "package.python must name a Python interpreter (3.12 or later), e.g. python3."
  }
}

variable "parallelization_factor" {
  type        = number
  description = "Concurrent batches per shard, 1 to 10. Records with the same partition key stay in order at any value."
  default     = 1
  nullable    = false

  validation {
    condition     = var.parallelization_factor >= 1 && var.parallelization_factor <= 10 && floor(var.parallelization_factor) == var.parallelization_factor
    error_message = "parallelization_factor must be a whole number between 1 and 10."
  }
}

variable "report_batch_item_failures" {
  type        = bool
  description = "Let the function report the records it failed (ReportBatchItemFailures), so only the batch from the first failed record on is retried instead of the whole batch. The function must return batchItemFailures."
  default     = true
  nullable    = false
}

variable "reserved_concurrent_executions" {
  type        = number
  description = "Concurrency reserved for (and capping) the function: -1 for no reservation, or >= 1. A stream mapping never runs more than shards x parallelization_factor invocations at once; a cap below that throttles, and throttled batches only wait until maximum_record_age_in_seconds."
  default     = -1
  nullable    = false
}

variable "role_name" {
  type        = string
  description = "Name of the IAM role the module creates for the function. Defaults to name; set it when the same function name is deployed to several Regions of one account, since role names are global."
  default     = null
}

variable "role_permissions_boundary_arn" {
  type        = string
  description = "ARN of an IAM managed policy to set as the role's permissions boundary, where the organisation requires one."
  default     = null
}

variable "runtime" {
  type        = string
  description = "Python runtime of the function: python3.12 or python3.13 (the one its dependencies layer was built for)."
  default     = "python3.12"
  nullable    = false
}

variable "source_kms_key_arn" {
  type        = string
  description = "ARN of the customer managed key encrypting the event source (the Kinesis stream, or the table of a DynamoDB stream). Granted kms:Decrypt only, through that source's service (kms:ViaService kinesis or dynamodb): reading needs no data key. Null for an unencrypted source or one with an AWS owned key."
  default     = null

  validation {
    condition     = var.source_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", coalesce(var.source_kms_key_arn, "-")))
    error_message = "source_kms_key_arn must be null or a KMS key ARN of the form arn:<partition>:kms:<region>:<account>:key/<key-id> (IAM does not match aliases)."
  }
}

variable "starting_position" {
  type        = string
  description = "Where a new mapping starts reading: TRIM_HORIZON (the oldest record still in the stream, the default, so nothing written before the mapping existed is skipped), LATEST, or AT_TIMESTAMP (Kinesis only, with starting_position_timestamp)."
  default     = "TRIM_HORIZON"
  nullable    = false

  validation {
    condition     = contains(["TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"], var.starting_position)
    error_message = "starting_position must be TRIM_HORIZON, LATEST or AT_TIMESTAMP."
  }
}

variable "starting_position_timestamp" {
  type        = string
  description = "RFC 3339 timestamp to start reading from. Required when starting_position is AT_TIMESTAMP, and only then."
  default     = null

  validation {
    condition     = var.starting_position_timestamp == null || can(formatdate("YYYY", coalesce(var.starting_position_timestamp, "-")))
    error_message = "starting_position_timestamp must be null or an RFC 3339 timestamp such as 2025-01-31T00:00:00Z."
  }
}

variable "system_log_level" {
  type        = string
  description = "Lowest level of the platform's log lines (START, END, REPORT...) sent to CloudWatch Logs: DEBUG, INFO or WARN. INFO keeps the per-invocation REPORT line with duration and memory."
  default     = "INFO"
  nullable    = false
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource the module creates."
  default     = {}
  nullable    = false
}

variable "timeout" {
  type        = number
  description = "Seconds an invocation may run, 1 to 900. A timed-out batch counts as a function error (retried, then bisected)."
  default     = 60
  nullable    = false
}

variable "tumbling_window_in_seconds" {
  type        = number
  description = "Length of a tumbling window for stateful aggregation across invocations, 0 to 900 seconds; 0 (the default) disables windows. Above 0 the function must declare itself window_aware."
  default     = 0
  nullable    = false

  validation {
    condition     = var.tumbling_window_in_seconds >= 0 && var.tumbling_window_in_seconds <= 900 && floor(var.tumbling_window_in_seconds) == var.tumbling_window_in_seconds
    error_message = "tumbling_window_in_seconds must be a whole number between 0 and 900."
  }
}

variable "window_aware" {
  type        = bool
  description = "The function returns the tumbling window's state (for example a consumer kit TumblingWindowConsumer). Required when tumbling_window_in_seconds is above 0: Lambda counts a response without state as a failed invocation, so every batch would be retried and then sent to the on-failure destination after its side effects."
  default     = false
  nullable    = false
}
