variable "alarm_emails" {
  type        = list(string)
  description = "Addresses the pipeline's alarms are e-mailed to (each confirms its subscription)."
  default     = []
  nullable    = false
}

variable "aws_region" {
  type        = string
  description = "Region of the stream, the functions and the orders table."
  default     = "eu-west-1"
  nullable    = false
}

variable "name" {
  type        = string
  description = "Prefix of every resource name: the stream, the functions (<name>-orders), the orders table (<name>-orders)."
  default     = "orders"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 characters of a-z, 0-9 and '-', starting with a letter."
  }
}
