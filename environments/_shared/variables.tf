# Per-environment values live in each environment's terraform.tfvars. Values passed to
# modules/pipeline are validated there (and in the modules it composes).

variable "alarm_emails" {
  type        = list(string)
  description = "Who gets the alarms of this environment."
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
  description = "Per-alarm threshold/period overrides keyed by alarm id (modules/alarms)."
  default     = {}
  nullable    = false
}

variable "aws_region" {
  type        = string
  description = "Region of the environment (e.g. eu-west-1)."
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a Region name such as eu-west-1."
  }
}

variable "batch_size" {
  type        = number
  description = "Records per invocation of the processor consumer (1–10,000)."
  default     = 100
  nullable    = false
}

variable "consumer_memory_size" {
  type        = number
  description = "Memory of the stream_processor function in MB (128–10,240)."
  default     = 256
  nullable    = false
}

variable "deletion_protection" {
  type        = bool
  description = "Fail any plan that would destroy or replace the stream, the DLQ or the on-failure topic (see modules/pipeline's README to remove an environment on purpose)."
  default     = true
  nullable    = false
}

variable "email_notifier" {
  type = object({
    enabled                           = optional(bool)
    sender_address                    = optional(string)
    create_identity                   = optional(bool)
    identity                          = optional(string)
    event_types                       = optional(list(string))
    idempotency_expires_after_seconds = optional(number)
    batch_size                        = optional(number)
    maximum_retry_attempts            = optional(number)
    memory_size                       = optional(number)
    timeout                           = optional(number)
    recipients = optional(object({
      allowed_domains   = optional(list(string))
      mailbox_simulator = optional(string)
    }))
    rate_limit = optional(object({
      max_emails     = optional(number)
      window_seconds = optional(number)
    }))
    configuration_set = optional(object({
      bounce_rate_alarm_threshold    = optional(number)
      complaint_rate_alarm_threshold = optional(number)
      cloudwatch_event_destination   = optional(bool)
    }))
  })
  description = "The e-mail notifier (modules/pipeline email_notifier, which validates it and fills unset attributes with its defaults): sender_address, either create_identity = true or the name of an existing SES identity (the address or its domain), and recipients.allowed_domains (the recipient policy). recipients.mailbox_simulator (every allowed recipient replaced by an SES mailbox simulator address) is refused in prod. The default, { enabled = false }, deploys no notifier."
  default     = { enabled = false }
  nullable    = false

  # Production mails real customers; the simulator is for rehearsing the path elsewhere.
  validation {
    condition     = var.environment != "prod" || try(var.email_notifier.recipients.mailbox_simulator, null) == null
    error_message = "email_notifier.recipients.mailbox_simulator must be null in prod: the SES mailbox simulator replaces every recipient, so no customer would be notified."
  }
}

variable "enable_s3_failure_bucket" {
  type        = bool
  description = "Create the failure bucket for claim-checks of records too large for SQS (default true; false leaves their bytes only in the stream until its retention ends)."
  default     = true
  nullable    = false
}

variable "environment" {
  type        = string
  description = "Environment name: local, dev, staging or prod (part of every resource name and the `environment` tag)."
  nullable    = false

  validation {
    condition     = contains(["local", "dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of local, dev, staging, prod."
  }
}

variable "failure_bucket_access_logging" {
  type = object({
    enabled         = optional(bool)
    expiration_days = optional(number)
    target_bucket   = optional(string)
  })
  description = "S3 server access logging of the failure bucket (modules/pipeline failure_bucket_access_logging, which fills unset attributes with its defaults): { enabled = true } logs into a bucket the pipeline creates, target_bucket names the organisation's log bucket instead. The default, {}, logs nothing."
  default     = {}
  nullable    = false
}

variable "log_retention_in_days" {
  type        = number
  description = "Retention of the functions' log groups (a CloudWatch Logs value)."
  default     = 365
  nullable    = false
}

variable "maximum_record_age_in_seconds" {
  type        = number
  description = "Age after which a failing record goes to the on-failure path (60–604,800); with the hydrate window (6 h) and an hour it must fit in retention_period."
  default     = 21600
  nullable    = false
}

variable "min_incoming_records_per_period" {
  type        = number
  description = "Alarm below this many incoming records per 5 minutes; null where traffic is not steady."
  default     = null
}

variable "owner" {
  type        = string
  description = "Team that owns the environment (the `owner` tag on every resource)."
  nullable    = false

  validation {
    condition     = length(trimspace(var.owner)) > 0 && length(var.owner) <= 256
    error_message = "owner must be a non-empty team name of at most 256 characters."
  }
}

variable "parallelization_factor" {
  type        = number
  description = "Concurrent batches per shard for every consumer (1–10)."
  default     = 1
  nullable    = false
}

variable "project" {
  type        = string
  description = "Project name: the prefix of every resource name and the `project` tag (1–20 characters of [a-z0-9-])."
  default     = "stream-pipeline"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,19}$", var.project))
    error_message = "project must be 1-20 characters of [a-z0-9-], starting with a letter."
  }
}

variable "replay_role_arns" {
  type        = list(string)
  description = "IAM roles the operators run replay, verify and `replay stats --inspect` with: the only principals, besides the account root, that may read the DLQ (modules/pipeline validates the ARNs)."
  default     = []
  nullable    = false
}

variable "results_table_deletion_protection" {
  type        = bool
  description = "Protect the results table from deletion."
  default     = true
  nullable    = false
}

variable "retention_period" {
  type        = number
  description = "Hours the stream keeps records (24–8,760)."
  default     = 168
  nullable    = false
}

variable "shard_count" {
  type        = number
  description = "Shards of a PROVISIONED stream; null for ON_DEMAND."
  default     = null
}

variable "stream_mode" {
  type        = string
  description = "ON_DEMAND or PROVISIONED."
  default     = "ON_DEMAND"
  nullable    = false
}

variable "use_enhanced_fan_out" {
  type        = bool
  description = "The processor consumer reads through its own enhanced fan-out consumer."
  default     = true
  nullable    = false
}
