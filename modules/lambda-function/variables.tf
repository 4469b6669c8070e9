variable "application_log_level" {
  type        = string
  description = "Lowest level of the function's own log lines that Lambda sends to CloudWatch Logs (JSON log format): TRACE, DEBUG, INFO, WARN, ERROR or FATAL."
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.application_log_level)
    error_message = "application_log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "architectures" {
  type        = list(string)
  description = "Instruction set of the function, as a one-element list: [\"arm64\"] (Graviton, the default: cheaper per GB-second) or [\"x86_64\"] (the one its dependencies layer was built for)."
  default     = ["arm64"]
  nullable    = false

  validation {
    condition     = length(var.architectures) == 1 && alltrue([for a in var.architectures : contains(["arm64", "x86_64"], a)])
    error_message = "architectures must be exactly one of [\"arm64\"] or [\"x86_64\"]."
  }
}

variable "code_signing_config_arn" {
  type        = string
  description = "ARN of a Lambda code signing configuration. When set, Lambda only deploys packages signed by its allowed signing profiles; when null the package is deployed unsigned (its integrity still pinned by source_code_hash)."
  default     = null

  validation {
    condition     = var.code_signing_config_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:code-signing-config:csc-[a-z0-9]{17}$", var.code_signing_config_arn))
    error_message = "code_signing_config_arn must be null or an ARN of the form arn:<partition>:lambda:<region>:<account>:code-signing-config:csc-<17 characters>."
  }
}

variable "create_kms_key" {
  type        = bool
  description = "Whether the module creates the function's key when kms_key_arn is null (the default, true). Set it to false, with kms_key_arn, when that ARN is known only after apply (e.g. the key_arn of a kms-key module in the same configuration): the module then knows at plan time that it creates no key, where testing kms_key_arn for null would fail with \"Invalid count argument\"."
  default     = true
  nullable    = false
}

variable "description" {
  type        = string
  description = "Description of the Lambda function (up to 256 characters)."
  default     = null

  validation {
    condition     = var.description == null || length(coalesce(var.description, "-")) <= 256
    error_message = "description must be at most 256 characters."
  }
}

variable "environment_variables" {
  type        = map(string)
  description = "Environment variables of the function, encrypted at rest with the module's KMS key. POWERTOOLS_SERVICE_NAME defaults to name and POWERTOOLS_METRICS_NAMESPACE to StreamPipeline/<name> unless set here."
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for k in keys(var.environment_variables) : can(regex("^[a-zA-Z][a-zA-Z0-9_]*$", k))])
    error_message = "environment_variables keys must start with a letter and contain only letters, digits and underscores."
  }
}

variable "filename" {
  type        = string
  description = "Path of the deployment package (.zip) built by `make package` (build/<function>.zip at the repository root), absolute or relative to the root module's working directory. Read at plan time to compute source_code_hash unless that is given."
  nullable    = false

  validation {
    condition     = endswith(lower(var.filename), ".zip")
    error_message = "filename must be the path of a .zip deployment package."
  }
}

variable "handler" {
  type        = string
  description = "Handler of the function, as <module path>.<function>, e.g. stream_processor.app.lambda_handler."
  nullable    = false

  validation {
    condition     = length(var.handler) <= 128 && can(regex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$", var.handler))
    error_message = "handler must be a dotted Python path ending in the function name (e.g. stream_processor.app.lambda_handler), at most 128 characters."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of an existing customer managed KMS key that encrypts the function's environment variables and its log group. When null (the default) the module creates a dedicated key with rotation, whose policy lets CloudWatch Logs use it for this log group only. A key passed here is not modified: its policy must allow logs.<region>.amazonaws.com for the log group. When the ARN is known only after apply, set create_kms_key = false too."
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

variable "layers" {
  type        = list(string)
  description = "Lambda layer version ARNs, in order (at most 5). The functions of this library need their dependencies layer (modules/lambda-layer, built by `make package`) here; [] only for a package that bundles its dependencies."
  nullable    = false

  validation {
    condition     = length(var.layers) <= 5 && length(distinct(var.layers)) == length(var.layers)
    error_message = "layers holds at most 5 distinct entries (the Lambda limit)."
  }

  validation {
    condition     = alltrue([for l in var.layers : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[a-zA-Z0-9_-]{1,140}:[0-9]+$", l))])
    error_message = "Each layers entry must be a layer version ARN of the form arn:<partition>:lambda:<region>:<account>:layer:<name>:<version> (the public Powertools layer is not used: the dependencies layer carries the tested Powertools)."
  }
}

variable "log_retention_in_days" {
  type        = number
  description = "Days the function's log group keeps events: one of the CloudWatch Logs values 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, or 0 to keep them forever. Defaults to a year, which audit baselines expect."
  default     = 365
  nullable    = false

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of 0 (never expire), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "memory_size" {
  type        = number
  description = "Memory of the function in MB, 128 to 10,240 (CPU is allocated in proportion)."
  default     = 256
  nullable    = false

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10,240."
  }
}

variable "name" {
  type        = string
  description = "Name of the Lambda function; also names its log group (/aws/lambda/<name>), its role (unless role_name is set) and its KMS key's description."
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 characters from [a-zA-Z0-9_-]."
  }
}

variable "policy_json" {
  type        = string
  description = "IAM policy JSON with the function's own permissions (what its code and, for a stream consumer, its event source mapping call), merged into the role's inline policy. The module adds WriteTraces (X-Ray, the only \"*\" resource) and, in a second inline policy, the function's log group and environment key. A statement reusing the sid WriteTraces is replaced by the module's. Null grants nothing beyond those."
  default     = null

  validation {
    condition     = var.policy_json == null || can(jsondecode(var.policy_json).Statement)
    error_message = "policy_json must be null or an IAM policy document in JSON with a Statement element."
  }
}

variable "policy_name" {
  type        = string
  description = "Name of the role's inline policy holding policy_json and WriteTraces (1-128 characters from [a-zA-Z0-9+=,.@_-]). Calling modules name it after themselves."
  default     = "function"
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,128}$", var.policy_name)) && var.policy_name != "own-resources"
    error_message = "policy_name must be 1-128 characters from [a-zA-Z0-9+=,.@_-], and not own-resources (the module's second inline policy)."
  }
}

variable "reserved_concurrent_executions" {
  type        = number
  description = "Concurrency reserved for (and capping) the function: -1 for no reservation, or >= 1. A cap throttles invocations beyond it: a stream mapping then waits (up to its maximum record age), an asynchronous invocation is retried by Lambda (up to its maximum event age)."
  default     = -1
  nullable    = false

  validation {
    condition     = var.reserved_concurrent_executions == -1 || (var.reserved_concurrent_executions >= 1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions)
    error_message = "reserved_concurrent_executions must be -1 (unreserved) or a whole number >= 1 (0 would stop the function)."
  }
}

variable "role_description" {
  type        = string
  description = "Description of the execution role (up to 1000 characters). Defaults to \"Execution role of Lambda function <name>\"."
  default     = null

  validation {
    condition     = var.role_description == null || length(coalesce(var.role_description, "-")) <= 1000
    error_message = "role_description must be null or at most 1000 characters."
  }
}

variable "role_name" {
  type        = string
  description = "Name of the IAM role the module creates for the function. Defaults to name; set it when the same function name is deployed to several Regions of one account, since role names are global."
  default     = null

  validation {
    condition     = var.role_name == null || can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", coalesce(var.role_name, "-")))
    error_message = "role_name must be null or 1-64 characters from [a-zA-Z0-9+=,.@_-]."
  }
}

variable "role_permissions_boundary_arn" {
  type        = string
  description = "ARN of an IAM managed policy to set as the role's permissions boundary, where the organisation requires one."
  default     = null

  validation {
    condition     = var.role_permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", coalesce(var.role_permissions_boundary_arn, "-")))
    error_message = "role_permissions_boundary_arn must be null or an IAM policy ARN of the form arn:<partition>:iam::<account>:policy/<name>."
  }
}

variable "runtime" {
  type        = string
  description = "Python runtime of the function: python3.12 or python3.13 (the one its dependencies layer was built for)."
  default     = "python3.12"
  nullable    = false

  validation {
    condition     = contains(["python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be python3.12 or python3.13."
  }
}

variable "source_code_hash" {
  type        = string
  description = "Base64-encoded SHA-256 of the package, which triggers a code update when it changes. When null (the default) the module computes filebase64sha256(filename) at plan time; set it when the package does not exist yet at plan time (built in the same run, or by CI elsewhere)."
  default     = null

  validation {
    condition     = var.source_code_hash == null || can(regex("^[A-Za-z0-9+/]{43}=$", coalesce(var.source_code_hash, "-")))
    error_message = "source_code_hash must be null or a base64-encoded SHA-256 digest (44 characters ending in =), as filebase64sha256() returns."
  }
}

variable "system_log_level" {
  type        = string
  description = "Lowest level of the platform's log lines (START, END, REPORT...) sent to CloudWatch Logs: DEBUG, INFO or WARN. INFO keeps the per-invocation REPORT line with duration and memory."
  default     = "INFO"
  nullable    = false

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN"], var.system_log_level)
    error_message = "system_log_level must be one of DEBUG, INFO, WARN."
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
  description = "Seconds an invocation may run, 1 to 900. A timed-out invocation counts as a function error (retried by whatever invoked it)."
  default     = 60
  nullable    = false

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900."
  }
}
