variable "alias" {
  type        = string
  description = "Alias name without the `alias/` prefix (1–250 characters of [a-zA-Z0-9/_-], not starting with `alias/` or `aws/`); null creates no alias."
  default     = null

  validation {
    condition = var.alias == null || (
      can(regex("^[a-zA-Z0-9/_-]{1,250}$", var.alias)) &&
      !startswith(coalesce(var.alias, "-"), "alias/") &&
      !startswith(coalesce(var.alias, "-"), "aws/")
    )
    error_message = "alias must be 1-250 characters of [a-zA-Z0-9/_-], without the alias/ prefix, and must not start with aws/ (reserved for AWS managed keys)."
  }
}

variable "deletion_window_in_days" {
  type        = number
  description = "Days (7–30) a scheduled deletion waits before the key, and every ciphertext under it, is gone."
  default     = 30
  nullable    = false

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30 && floor(var.deletion_window_in_days) == var.deletion_window_in_days
    error_message = "deletion_window_in_days must be a whole number between 7 and 30."
  }
}

variable "description" {
  type        = string
  description = "What the key encrypts (shown in the KMS console; 1–8192 characters)."
  nullable    = false

  validation {
    condition     = length(var.description) >= 1 && length(var.description) <= 8192
    error_message = "description must be between 1 and 8192 characters."
  }
}

variable "log_groups" {
  type        = map(string)
  description = "CloudWatch Logs log groups the key encrypts, as statement sid => log group name (e.g. { CloudWatchLogsForThisLogGroup = \"/aws/lambda/orders\" }). Each adds a statement, after `statements`, letting logs.<region>.<dns suffix> use the key (the actions CloudWatch Logs needs) only for that log group of the key's account and the provider's Region (kms:EncryptionContext:aws:logs:arn)."
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for sid, name in var.log_groups : can(regex("^[A-Za-z0-9]{1,128}$", sid)) && sid != "AccountIamDelegation" && can(regex("^[a-zA-Z0-9_/.#-]{1,512}$", name))])
    error_message = "Each log_groups key must be a statement sid of 1-128 alphanumeric characters other than AccountIamDelegation, and each value a log group name (1-512 characters from [a-zA-Z0-9_/.#-])."
  }
}

variable "statements" {
  type = list(object({
    sid            = string
    principal_type = optional(string, "Service")
    principals     = list(string)
    actions        = list(string)
    conditions = optional(list(object({
      test     = string
      variable = string
      values   = list(string)
    })), [])
  }))
  description = "Key policy statements added to the account delegation, each allowing `actions` on this key to `principals` (service names, or AWS ARNs with principal_type = \"AWS\") under `conditions`. Condition values may contain `{account_id}` and `{partition}`, replaced by the key's own account and partition (e.g. an aws:SourceAccount condition). Actions must be kms:<Action> names; wildcards are refused."
  default     = []
  nullable    = false

  validation {
    condition     = length(distinct([for s in var.statements : s.sid])) == length(var.statements)
    error_message = "statements must have unique sid values."
  }

  validation {
    condition     = alltrue([for s in var.statements : can(regex("^[A-Za-z0-9]{1,128}$", s.sid)) && s.sid != "AccountIamDelegation"])
    error_message = "Each statement sid must be 1-128 alphanumeric characters and not AccountIamDelegation (the module's own statement)."
  }

  validation {
    condition     = alltrue([for s in var.statements : contains(["Service", "AWS"], s.principal_type) && length(s.principals) > 0])
    error_message = "Each statement needs principal_type Service or AWS and at least one principal."
  }

  validation {
    condition     = alltrue(flatten([for s in var.statements : [for a in s.actions : can(regex("^kms:[A-Za-z]+$", a))]]))
    error_message = "Statement actions must be explicit kms:<Action> names (for example kms:Decrypt); wildcards such as kms:* or * are not allowed."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for the key."
  default     = {}
  nullable    = false
}
