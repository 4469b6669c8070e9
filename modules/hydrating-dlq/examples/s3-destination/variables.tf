variable "access_log_bucket" {
  type        = string
  description = "Name of an existing bucket for the failure bucket's server access logs."
  default     = "example-org-s3-access-logs"
  nullable    = false
}
