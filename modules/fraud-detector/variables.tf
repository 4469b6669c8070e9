variable "deletion_protection" {
  type        = bool
  description = "DynamoDB deletion protection of the flags table (on in production: the flags are the record of what was found). The history table is derived data and has none."
  default     = true
  nullable    = false
}

variable "handler" {
  type        = string
  description = "The function's handler in the package: <module path>.<function> of Python identifiers."
  default     = "fraud_detector.app.lambda_handler"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$", var.handler))
    error_message = "handler must be <module path>.<function> of Python identifiers, e.g. fraud_detector.app.lambda_handler."
  }
}

variable "history_ttl_days" {
  type        = number
  description = "Days (1-365) an event stays in the history after its event time (DynamoDB TTL): how far back the new-country rule remembers, and how old a replayed record can be and still be evaluated against its history."
  default     = 90
  nullable    = false

  validation {
    condition     = var.history_ttl_days >= 1 && var.history_ttl_days <= 365 && floor(var.history_ttl_days) == var.history_ttl_days
    error_message = "history_ttl_days must be a whole number of days between 1 and 365."
  }
}

variable "name" {
  type        = string
  description = "Prefix of the tables (<name>-fraud-history, <name>-fraud-flags), the alert topic (<name>-fraud-alerts) and the key alias; the pipeline's name, 1-40 characters of [a-zA-Z0-9_-]."
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,40}$", var.name))
    error_message = "name must be 1-40 characters of a-z, A-Z, 0-9, '_' and '-'."
  }
}

variable "package" {
  type = object({
    filename         = optional(string)
    python           = optional(string, "python3")
    source_code_hash = optional(string)
    source_dir       = optional(string)
  })
  description = "The function's code, passed on as the consumer's package (modules/pipeline consumers): exactly one of filename (build/fraud_detector.zip, from make package) or source_dir (a folder the pipeline zips with the consumer kit)."
  nullable    = false

  validation {
    condition     = (var.package.filename == null) != (var.package.source_dir == null)
    error_message = "package must set exactly one of filename (a prebuilt .zip) and source_dir (a folder the pipeline zips)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource."
  default     = {}
  nullable    = false
}

variable "thresholds" {
  type = object({
    cart_burst_count          = optional(number, 6)
    cart_burst_window_seconds = optional(number, 300)
    purchase_amount           = optional(number, 1000)
    purchase_count            = optional(number, 5)
    velocity_window_seconds   = optional(number, 600)
  })
  description = "The rules' limits; a rule trips on more than its limit, in event time. purchase_count (1-1,000, default 5) purchases or purchase_amount (0.01-10,000,000 in major units of one currency, at most 2 decimals, default 1,000) spent by one user within velocity_window_seconds (60-86,400, default 600); cart_burst_count (1-1,000, default 6) add-to-carts of one session within cart_burst_window_seconds (60-86,400, default 300). The new-country rule has no threshold."
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for count in [var.thresholds.purchase_count, var.thresholds.cart_burst_count] : count >= 1 && count <= 1000 && floor(count) == count])
    error_message = "thresholds.purchase_count and thresholds.cart_burst_count must be whole numbers between 1 and 1,000."
  }

  validation {
    condition     = var.thresholds.purchase_amount >= 0.01 && var.thresholds.purchase_amount <= 10000000 && floor(var.thresholds.purchase_amount * 100) == var.thresholds.purchase_amount * 100
    error_message = "thresholds.purchase_amount must be between 0.01 and 10,000,000 (major units) with at most 2 decimals."
  }

  validation {
    condition     = alltrue([for seconds in [var.thresholds.velocity_window_seconds, var.thresholds.cart_burst_window_seconds] : seconds >= 60 && seconds <= 86400 && floor(seconds) == seconds])
    error_message = "thresholds.velocity_window_seconds and thresholds.cart_burst_window_seconds must be whole numbers of seconds between 60 and 86,400 (1 minute to 1 day)."
  }
}
