# dev: cheap and quick to recover; failures surface fast, nothing here is precious.
environment  = "dev"
aws_region   = "eu-west-1"
owner        = "streaming-team"
alarm_emails = ["streaming-dev@example.com"]

stream_mode                       = "PROVISIONED"
shard_count                       = 1
retention_period                  = 24
use_enhanced_fan_out              = false
maximum_record_age_in_seconds     = 3600 # 1 h: well below the 24 h retention
log_retention_in_days             = 30
deletion_protection               = false
results_table_deletion_protection = false

alarm_overrides = {
  consumer-iterator-age = { threshold = 300000 } # 5 min of lag is normal while iterating
}

# The e-mail notifier; dev creates its own SES identity (verify it once from the e-mail SES
# sends). Every allowed recipient is replaced by the SES mailbox simulator, which the account's
# SES sandbox accepts too: dev exercises the whole path and mails nobody.
email_notifier = {
  sender_address  = "notifications@dev.example.com"
  create_identity = true
  recipients = {
    allowed_domains   = ["example.com"]
    mailbox_simulator = "success"
  }
}
