# The one input only the local environment has.

variable "local_endpoint" {
  type        = string
  description = "URL of the local emulator (make local-up starts it on http://127.0.0.1:$LOCAL_PORT)."
  default     = "http://127.0.0.1:4566"
  nullable    = false

  validation {
    condition     = can(regex("^http://(127\\.[0-9]+\\.[0-9]+\\.[0-9]+|localhost|\\[::1\\]):[0-9]{1,5}$", var.local_endpoint))
    error_message = "local_endpoint must be an http URL on loopback (127.0.0.0/8, localhost or [::1]) with a port, e.g. http://127.0.0.1:4566."
  }
}
