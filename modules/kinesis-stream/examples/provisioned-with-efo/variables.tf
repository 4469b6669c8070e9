variable "archiver_principal_arns" {
  type        = list(string)
  description = "Principals in other accounts allowed to read through the archiver consumer (empty: same account only)."
  default     = []
  nullable    = false
}

variable "producer_principal_arns" {
  type        = list(string)
  description = "Principals in other accounts allowed to put records (empty: same account only)."
  default     = []
  nullable    = false
}
