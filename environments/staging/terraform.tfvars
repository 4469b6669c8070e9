# staging: production's shape at a smaller scale, so releases are rehearsed on the real topology.
environment  = "staging"
aws_region   = "eu-west-1"
owner        = "streaming-team"
alarm_emails = ["streaming-staging@example.com"]

stream_mode                       = "ON_DEMAND"
retention_period                  = 72
use_enhanced_fan_out              = true
maximum_record_age_in_seconds     = 21600
log_retention_in_days             = 90
deletion_protection               = true
results_table_deletion_protection = true

# As in prod: access logs of the failure bucket, kept as long as the functions' logs.
failure_bucket_access_logging = { enabled = true, expiration_days = 90 }

# The e-mail notifier sends from the domain identity the account already verified, to the SES
# mailbox simulator only (production's traffic shape, no customer mailed from staging).
email_notifier = {
  sender_address = "notifications@staging.example.com"
  identity       = "staging.example.com"
  recipients = {
    allowed_domains   = ["example.com"]
    mailbox_simulator = "success"
  }
}
