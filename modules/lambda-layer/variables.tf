variable "architecture" {
  type        = string
  description = "Instruction set the layer's binary wheels are built for: arm64 or x86_64 (the functions' architecture)."
  default     = "arm64"
  nullable    = false

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "description" {
  type        = string
  description = "Description of the layer version (up to 256 characters)."
  default     = "Third-party dependencies of the stream pipeline's functions, pinned by requirements/lambda.txt."
  nullable    = false

  validation {
    condition     = length(var.description) <= 256
    error_message = "description must be at most 256 characters."
  }
}

variable "filename" {
  type        = string
  description = "Path of the layer zip built by `make package` (build/dependencies-<runtime>-<architecture>.zip at the repository root), absolute or relative to the root module's working directory."
  nullable    = false

  validation {
    condition     = endswith(lower(var.filename), ".zip")
    error_message = "filename must be the path of a .zip layer package."
  }
}

variable "name" {
  type        = string
  description = "Name of the layer (1–140 characters: letters, digits, hyphens and underscores)."
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,140}$", var.name))
    error_message = "name must be 1 to 140 characters of letters, digits, hyphens and underscores."
  }
}

variable "runtime" {
  type        = string
  description = "Python runtime the layer's wheels are built for: python3.12 or python3.13 (the functions' runtime)."
  default     = "python3.12"
  nullable    = false

  validation {
    condition     = contains(["python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be python3.12 or python3.13."
  }
}

variable "skip_destroy" {
  type        = bool
  description = "Keep old layer versions in the account when the layer is replaced or destroyed (Terraform then only forgets them)."
  default     = false
  nullable    = false
}

variable "source_code_hash" {
  type        = string
  description = "Base64-encoded SHA-256 of the zip; computed from filename when null. Set it when the zip is built after planning."
  default     = null
}
