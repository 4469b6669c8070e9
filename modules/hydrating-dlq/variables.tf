# Inputs passed through to modules/lambda-function are validated there: Terraform reports its error message, which names what is allowed.

variable "access_logging" {
  type = object({
    enabled         = optional(bool, false)
    expiration_days = optional(number, 365)
    target_bucket   = optional(string)
  })
  description = "S3 server access logging of the failure bucket (who read or wrote which failure record): enabled (default false); target_bucket, the name of an existing log bucket of the organisation (its policy must let logging.s3.amazonaws.com write under <failure bucket name>/), or null (the default) for a bucket the module creates, <name>-access-logs-<suffix> (private, versioned, TLS-only, SSE-S3: the only default encryption log delivery supports), whose logs expire after expiration_days, 1 to 3650 (default 365). Only used when enable_s3_failure_bucket is true."
  default     = {}
  nullable    = false

  validation {
    condition     = var.access_logging.target_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.access_logging.target_bucket, "-")))
    error_message = "access_logging.target_bucket must be null or an S3 bucket name (3-63 characters from [a-z0-9.-]), not an ARN or URI."
  }

  validation {
    condition     = var.access_logging.expiration_days >= 1 && var.access_logging.expiration_days <= 3650 && floor(var.access_logging.expiration_days) == var.access_logging.expiration_days
    error_message = "access_logging.expiration_days must be a whole number of days between 1 and 3650."
  }
}

variable "architectures" {
  type        = list(string)
  description = "Instruction set of the hydrate function, as a one-element list: [\"arm64\"] (the default) or [\"x86_64\"] (the one its dependencies layer was built for)."
  default     = ["arm64"]
  nullable    = false
}

variable "consumer_role_arns" {
  type        = list(string)
  description = "ARNs of the execution roles of the consumers whose event source mappings publish to the on-failure topic and that send their poison records to the DLQ. They and the hydrate function are the DLQ's only writers (the queue policy denies sqs:SendMessage to every other principal of the account) and the only signers of DLQ envelopes (kms:GenerateMac on the MAC key). When set, the topic policy also allows exactly these roles to publish and denies sns:Publish to every other principal; when empty (the default) the topic keeps its default policy."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.consumer_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[a-zA-Z0-9+=,.@_/-]{1,512}$", arn))])
    error_message = "Each consumer_role_arns entry must be an IAM role ARN of the form arn:<partition>:iam::<account>:role/<name> (event source mappings publish with their function's role)."
  }
}

variable "dlq_visibility_timeout_seconds" {
  type        = number
  description = "Default visibility timeout of the DLQ, 0 to 43,200 seconds: how long a received message stays hidden before another receiver gets it. The replay CLI sets its own on every receive (300 by default, the same as this default)."
  default     = 300
  nullable    = false

  validation {
    condition     = var.dlq_visibility_timeout_seconds >= 0 && var.dlq_visibility_timeout_seconds <= 43200 && floor(var.dlq_visibility_timeout_seconds) == var.dlq_visibility_timeout_seconds
    error_message = "dlq_visibility_timeout_seconds must be a whole number between 0 and 43,200 (12 hours)."
  }
}

variable "enable_s3_failure_bucket" {
  type        = bool
  description = "Create the failure bucket: usable as the native S3 on-failure destination of a consumer's event source mapping (s3_on_failure_destination_arn; the object holds the records' data), and the hydrate function's claim-check store (PAYLOAD_BUCKET) for records too large for an SQS message. Without it such records reach the DLQ without their data (checksum, length and coordinates kept)."
  default     = false
  nullable    = false
}

variable "filename" {
  type        = string
  description = "Path of the hydrate function's package (build/hydrate.zip, built by `make package` at the repository root), absolute or relative to the root module's working directory."
  nullable    = false
}

variable "handler" {
  type        = string
  description = "Handler of the hydrate function."
  default     = "hydrate.app.lambda_handler"
  nullable    = false
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of an existing customer managed KMS key for the topic, the DLQ, the bucket and the hydrate function's environment and log group. When null (the default) the module creates one with rotation. A key passed here is not modified: its policy must let sns.amazonaws.com use it for the topic (kms:GenerateDataKey, kms:Decrypt: subscription redrive to the DLQ) and logs.<region>.amazonaws.com for the log group /aws/lambda/<name>-hydrate."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", coalesce(var.kms_key_arn, "-")))
    error_message = "kms_key_arn must be null or a KMS key ARN of the form arn:<partition>:kms:<region>:<account>:key/<key-id> (aliases are not accepted)."
  }
}

variable "kms_key_deletion_window_in_days" {
  type        = number
  description = "Waiting period, in days, before the module-created KMS key is deleted after destroy, 7 to 30. Ignored when kms_key_arn is set."
  default     = 30
  nullable    = false

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30 && floor(var.kms_key_deletion_window_in_days) == var.kms_key_deletion_window_in_days
    error_message = "kms_key_deletion_window_in_days must be a whole number between 7 and 30."
  }
}

variable "layers" {
  type        = list(string)
  description = "Lambda layer version ARNs of the hydrate function, in order (at most 5): its dependencies layer (modules/lambda-layer, built by `make package`) first."
  nullable    = false
}

variable "log_retention_in_days" {
  type        = number
  description = "Days the hydrate function's log group keeps events: one of the CloudWatch Logs values 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, or 0 to keep them forever."
  default     = 365
  nullable    = false
}

variable "maximum_event_age_in_seconds" {
  type        = number
  description = "How long Lambda keeps retrying an SNS notification the hydrate function could not handle (including time throttled in its queue) before it sends the invocation record to the DLQ, 60 to 21,600 seconds. The default, 6 hours, is the maximum."
  default     = 21600
  nullable    = false

  validation {
    condition     = var.maximum_event_age_in_seconds >= 60 && var.maximum_event_age_in_seconds <= 21600 && floor(var.maximum_event_age_in_seconds) == var.maximum_event_age_in_seconds
    error_message = "maximum_event_age_in_seconds must be a whole number between 60 and 21,600 (6 hours)."
  }
}

variable "maximum_retry_attempts" {
  type        = number
  description = "Retries Lambda makes of a failed hydrate invocation before sending its record (with the original SNS notification) to the DLQ, 0 to 2."
  default     = 2
  nullable    = false

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 2 && floor(var.maximum_retry_attempts) == var.maximum_retry_attempts
    error_message = "maximum_retry_attempts must be a whole number between 0 and 2 (the Lambda limit for asynchronous invocations)."
  }
}

variable "memory_size" {
  type        = number
  description = "Memory of the hydrate function in MB, 128 to 10,240."
  default     = 256
  nullable    = false
}

variable "name" {
  type        = string
  description = "Base name of the resources: topic <name>-on-failure, DLQ <name>-dlq, function (and role, log group) <name>-hydrate, bucket <name>-failures-<suffix>. 1-40 characters from [a-z0-9-], starting with a letter or digit (bucket names allow nothing else)."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,39}$", var.name))
    error_message = "name must be 1-40 characters from [a-z0-9-], starting with a letter or digit."
  }
}

variable "powertools_metrics_namespace" {
  type        = string
  description = "CloudWatch namespace of the hydrate function's metrics (POWERTOOLS_METRICS_NAMESPACE); null (the default): StreamPipeline/<name>, the alarms module's default for name_prefix = name."
  default     = null

  validation {
    condition     = var.powertools_metrics_namespace == null ? true : can(regex("^[a-zA-Z0-9._/#:-]{1,255}$", var.powertools_metrics_namespace)) && !startswith(var.powertools_metrics_namespace, "AWS/")
    error_message = "powertools_metrics_namespace must be null or 1-255 characters from [a-zA-Z0-9._/#:-] and must not start with AWS/ (reserved)."
  }
}

variable "powertools_service_name" {
  type        = string
  description = "Service name of the hydrate function's logs, traces and metrics (POWERTOOLS_SERVICE_NAME)."
  default     = "hydrate"
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9._-]{1,128}$", var.powertools_service_name))
    error_message = "powertools_service_name must be 1-128 characters from [a-zA-Z0-9._-]."
  }
}

variable "replay_role_arns" {
  type        = list(string)
  description = "ARNs of the IAM roles that run the replay CLI (docs/replay.md): the only principals, besides the account root (break-glass), that may receive, delete or change the visibility of DLQ messages (the queue policy denies it to everyone else), and that the MAC key lets verify envelopes (kms:VerifyMac). Empty (the default): nobody but the account root reads the DLQ until a role is named."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.replay_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[a-zA-Z0-9+=,.@_/-]{1,512}$", arn))])
    error_message = "Each replay_role_arns entry must be an IAM role ARN of the form arn:<partition>:iam::<account>:role/<name> (the role the replay runs with, not a user or a session ARN)."
  }
}

variable "reserved_concurrent_executions" {
  type        = number
  description = "Concurrency reserved for (and capping) the hydrate function: -1 for no reservation (the default), or >= 1. Notifications above the cap wait in Lambda's asynchronous queue (up to maximum_event_age_in_seconds), then go to the DLQ."
  default     = -1
  nullable    = false
}

variable "role_permissions_boundary_arn" {
  type        = string
  description = "ARN of an IAM managed policy to set as the hydrate role's permissions boundary, where the organisation requires one."
  default     = null
}

variable "runtime" {
  type        = string
  description = "Python runtime of the hydrate function: python3.12 or python3.13 (the one its dependencies layer was built for)."
  default     = "python3.12"
  nullable    = false
}

variable "s3_bucket_name" {
  type        = string
  description = "Name of the failure bucket. Null (the default) lets AWS make a unique name starting with <name>-failures-. Only used when enable_s3_failure_bucket is true."
  default     = null

  validation {
    condition     = var.s3_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", coalesce(var.s3_bucket_name, "-")))
    error_message = "s3_bucket_name must be null or an S3 bucket name: 3-63 characters from [a-z0-9.-], starting and ending with a letter or digit."
  }
}

variable "s3_expiration_days" {
  type        = number
  description = "Days after which failure records (current objects) and their overwritten versions (noncurrent) expire from the bucket, 14 to 3650: at least the DLQ's 14-day retention, so a claim-check outlives the message pointing to it; the default, 30, leaves two more weeks to replay."
  default     = 30
  nullable    = false

  validation {
    condition     = var.s3_expiration_days >= 14 && var.s3_expiration_days <= 3650 && floor(var.s3_expiration_days) == var.s3_expiration_days
    error_message = "s3_expiration_days must be a whole number between 14 (the DLQ's retention: a claim-check must outlive the message that points to it) and 3650."
  }
}

variable "s3_on_failure_writer_role_arns" {
  type        = list(string)
  description = "ARNs of the execution roles of the consumers whose event source mappings use the failure bucket as their S3 on-failure destination (Lambda writes the aws/lambda/ objects with the function's role). The bucket policy denies s3:PutObject under aws/lambda/ to every other principal, since the replay CLI replays those objects. Empty (the default): no S3 on-failure destination writes there. Only used when enable_s3_failure_bucket is true."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.s3_on_failure_writer_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[a-zA-Z0-9+=,.@_/-]{1,512}$", arn))])
    error_message = "Each s3_on_failure_writer_role_arns entry must be an IAM role ARN of the form arn:<partition>:iam::<account>:role/<name> (Lambda writes the on-failure objects with the function's role)."
  }
}

variable "source_code_hash" {
  type        = string
  description = "Base64-encoded SHA-256 of the hydrate package. When null (the default) it is computed from filename at plan time; set it when the package does not exist yet at plan time."
  default     = null
}

variable "source_kms_key_arns" {
  type        = list(string)
  description = "ARNs of the customer managed keys encrypting the source streams, granted kms:Decrypt to the hydrate function through Kinesis (and DynamoDB for DynamoDB streams) only (kms:ViaService; the module's own key is granted separately)."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.source_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", arn))])
    error_message = "Each source_kms_key_arns entry must be a KMS key ARN of the form arn:<partition>:kms:<region>:<account>:key/<key-id> (IAM does not match aliases)."
  }
}

variable "source_stream_arns" {
  type        = list(string)
  description = "ARNs of the streams whose failed batches the hydrate function re-reads: Kinesis data streams (arn:...:kinesis:...:stream/<name>, also for EFO consumers of them) and DynamoDB streams (arn:...:dynamodb:...:table/<name>/stream/<label>). The type is read from each ARN and decides the read permissions; a record from any other stream reaches the DLQ without its data."
  nullable    = false

  validation {
    condition     = length(var.source_stream_arns) >= 1
    error_message = "source_stream_arns must name at least one stream: the hydrate function can only re-read the streams its role may read."
  }

  validation {
    condition = alltrue([for arn in var.source_stream_arns : anytrue([
      can(regex("^arn:aws[a-z-]*:kinesis:[a-z0-9-]+:[0-9]{12}:stream/[a-zA-Z0-9_.-]{1,128}$", arn)),
      can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[a-zA-Z0-9_.-]{3,255}/stream/[0-9A-Za-z:.T_-]+$", arn)),
    ])])
    error_message = "Each source_stream_arns entry must be a Kinesis stream ARN (arn:<partition>:kinesis:<region>:<account>:stream/<name>, not an EFO consumer ARN) or a DynamoDB stream ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>/stream/<label>)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource the module creates."
  default     = {}
  nullable    = false
}

variable "timeout" {
  type        = number
  description = "Seconds a hydrate invocation may run, 1 to 900. One invocation re-reads one failed batch (up to the consumer's batch size) from its shard."
  default     = 120
  nullable    = false
}
