variable "consumer_principal_arns" {
  type        = list(string)
  description = "Principals (12-digit account IDs or IAM account-root, role or user ARNs, usually in other accounts) allowed to read the stream by polling. Granted through the stream's resource policy and, when the module creates the key, kms:Decrypt via Kinesis in the key policy."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for p in var.consumer_principal_arns : can(regex("^([0-9]{12}|arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+))$", p))])
    error_message = "Each consumer_principal_arns entry must be a 12-digit account ID or an arn:<partition>:iam::<account>:root, :role/<name> or :user/<name> ARN."
  }
}

variable "consumers" {
  type = map(object({
    principal_arns = optional(list(string), [])
  }))
  description = "Enhanced fan-out consumers to register, keyed by consumer name. principal_arns lists principals (usually in other accounts) allowed to SubscribeToShard through that consumer; they are also granted read access to the stream and, when the module creates the key, kms:Decrypt via Kinesis."
  default     = {}
  nullable    = false

  validation {
    condition     = length(var.consumers) <= 20
    error_message = "A stream supports at most 20 registered enhanced fan-out consumers; consumers has more than 20 entries."
  }

  validation {
    condition     = alltrue([for name in keys(var.consumers) : can(regex("^[a-zA-Z0-9_.-]{1,128}$", name))])
    error_message = "Each consumers key (the consumer name) must be 1-128 characters from [a-zA-Z0-9_.-]."
  }

  validation {
    condition = alltrue(flatten([
      for consumer in values(var.consumers) : [
        for p in consumer.principal_arns : can(regex("^([0-9]{12}|arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+))$", p))
      ]
    ]))
    error_message = "Each consumers[*].principal_arns entry must be a 12-digit account ID or an arn:<partition>:iam::<account>:root, :role/<name> or :user/<name> ARN."
  }
}

variable "enforce_consumer_deletion" {
  type        = bool
  description = "Whether destroying the stream also deregisters consumers registered outside Terraform. Defaults to false so a stream that someone is still reading from is not destroyed by accident; consumers managed by this module are removed first either way."
  default     = false
  nullable    = false
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of an existing customer managed KMS key, in the stream's Region, to encrypt the stream with. When null (the default) the module creates a dedicated key with rotation enabled. A key passed here is not modified: grant cross-account principals kms:GenerateDataKey / kms:Decrypt in its key policy yourself."
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

variable "name" {
  type        = string
  description = "Name of the Kinesis data stream, unique per account and Region."
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{1,128}$", var.name))
    error_message = "name must be 1-128 characters from [a-zA-Z0-9_.-]."
  }
}

variable "producer_principal_arns" {
  type        = list(string)
  description = "Principals (12-digit account IDs or IAM account-root, role or user ARNs, usually in other accounts) allowed to put records. Granted through the stream's resource policy and, when the module creates the key, kms:GenerateDataKey via Kinesis in the key policy."
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for p in var.producer_principal_arns : can(regex("^([0-9]{12}|arn:aws[a-z-]*:iam::[0-9]{12}:(root|role/.+|user/.+))$", p))])
    error_message = "Each producer_principal_arns entry must be a 12-digit account ID or an arn:<partition>:iam::<account>:root, :role/<name> or :user/<name> ARN."
  }
}

variable "retention_period" {
  type        = number
  description = "Hours records stay readable. The default of 168 (7 days) gives consumers a week to recover from an outage before records expire; more than 24 hours is billed as extended retention."
  default     = 168
  nullable    = false

  validation {
    condition     = var.retention_period >= 24 && var.retention_period <= 8760 && floor(var.retention_period) == var.retention_period
    error_message = "retention_period must be a whole number of hours between 24 and 8760 (365 days)."
  }
}

variable "shard_count" {
  type        = number
  description = "Number of shards. Required (>= 1) when stream_mode is PROVISIONED; must be null when stream_mode is ON_DEMAND."
  default     = null

  validation {
    condition     = var.shard_count == null ? true : var.shard_count >= 1 && floor(var.shard_count) == var.shard_count
    error_message = "shard_count must be null or a whole number >= 1."
  }
}

variable "shard_level_metrics" {
  type        = list(string)
  description = "Shard-level CloudWatch metrics to enable (billed per shard). IteratorAgeMilliseconds per shard shows which shard a consumer is falling behind on."
  default     = []
  nullable    = false

  validation {
    condition = alltrue([
      for m in var.shard_level_metrics : contains([
        "ALL",
        "IncomingBytes",
        "IncomingRecords",
        "IteratorAgeMilliseconds",
        "OutgoingBytes",
        "OutgoingRecords",
        "ReadProvisionedThroughputExceeded",
        "WriteProvisionedThroughputExceeded",
      ], m)
    ])
    error_message = "shard_level_metrics entries must be among: ALL, IncomingBytes, IncomingRecords, IteratorAgeMilliseconds, OutgoingBytes, OutgoingRecords, ReadProvisionedThroughputExceeded, WriteProvisionedThroughputExceeded."
  }
}

variable "stream_mode" {
  type        = string
  description = "Capacity mode: ON_DEMAND (AWS scales shards with traffic) or PROVISIONED (you set shard_count)."
  default     = "ON_DEMAND"
  nullable    = false

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream_mode)
    error_message = "stream_mode must be ON_DEMAND or PROVISIONED."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for the stream and the module-created KMS key."
  default     = {}
  nullable    = false
}
