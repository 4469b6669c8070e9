# Just the stream and the e-mail recipients: stream alarms (no throughput
# floor, so no stream-incoming-records-low), a dashboard with the ingest and
# lag widgets, and a module-created KMS key.
name_prefix = "clicks"
stream_name = "clicks"

alarm_emails = [
  "oncall@example.com",
]
