# local: the same composition against the emulator (the local runtime runs the functions with
# this repository's virtualenv, which holds the dependencies layer's pinned versions).
environment  = "local"
aws_region   = "us-east-1"
owner        = "developer"
alarm_emails = []

stream_mode                       = "ON_DEMAND"
retention_period                  = 24
use_enhanced_fan_out              = true
maximum_record_age_in_seconds     = 3600
log_retention_in_days             = 7
deletion_protection               = false
results_table_deletion_protection = false
# On everywhere (the default): a poison record too large for an SQS message keeps its bytes in
# the failure bucket (the e2e suite's large poison record reads them back from there).
enable_s3_failure_bucket = true

# The e-mail notifier against the emulator: the identity is created there (moto verifies it
# at once) and the e-mails it sends are recorded by moto's SES. The producer's customers are
# <userId>@example.com, all mailed through the mailbox simulator; the default rate cap (5 per
# recipient and hour) dead-letters a busy customer's extra purchases, which make demo counts.
# moto 5.2.5 has no SES v2 event destination API: the configuration set is created without one.
email_notifier = {
  sender_address  = "notifications@example.com"
  create_identity = true
  recipients = {
    allowed_domains   = ["example.com"]
    mailbox_simulator = "success"
  }
  configuration_set = { cloudwatch_event_destination = false }
}

# Short windows on this machine: the demo and the e2e suite wait for a window's final invocation.
trending = { tumbling_window_in_seconds = 5 }
