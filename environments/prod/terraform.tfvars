# prod: a week of retention to hydrate and replay after an incident, every alarm at its
# tightest, a traffic floor so silent producers page someone, nothing deletable by accident.
environment  = "prod"
aws_region   = "eu-west-1"
owner        = "streaming-team"
alarm_emails = ["streaming-oncall@example.com", "streaming-team@example.com"]

stream_mode                       = "ON_DEMAND"
retention_period                  = 168
use_enhanced_fan_out              = true
parallelization_factor            = 2
maximum_record_age_in_seconds     = 21600
consumer_memory_size              = 512
log_retention_in_days             = 365
deletion_protection               = true
results_table_deletion_protection = true
enable_s3_failure_bucket          = true
min_incoming_records_per_period   = 100

# Who read or wrote which failure record (they hold payloads): server access logs, kept a year,
# in a log bucket the pipeline creates (target_bucket would name the organisation's instead).
failure_bucket_access_logging = { enabled = true, expiration_days = 365 }

# The e-mail notifier sends from the domain identity the account already verified (DKIM and
# production access are managed with the domain, not here).
# Recipients: the shop's customers' domain (a shop mailing the public sets ["*"] and relies on
# the rate cap and the bounce/complaint alarms); at most 5 e-mails per customer and hour.
email_notifier = {
  sender_address = "notifications@example.com"
  identity       = "example.com"
  recipients     = { allowed_domains = ["example.com"] }
  rate_limit     = { max_emails = 5, window_seconds = 3600 }
}
