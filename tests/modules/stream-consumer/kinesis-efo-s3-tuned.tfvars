# Enhanced fan-out consumer with an S3 on-failure destination, a caller key,
# x86_64 on python3.13, and every mapping setting moved off its default.
name    = "orders-archiver"
handler = "archiver.app.lambda_handler"
# Fixed stand-in hash (SHA-256 of empty input): see kinesis-sns-defaults.
package = {
  filename         = "../../build/stream_processor.zip"
  source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
}
description = "Archives purchase events"

runtime                        = "python3.13"
architectures                  = ["x86_64"]
memory_size                    = 1024
timeout                        = 120
reserved_concurrent_executions = 20
layers = [
  "arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies-py313-x86:3",
  "arn:aws:lambda:eu-west-1:111122223333:layer:orders-shared:7",
]

kms_key_arn           = "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
log_retention_in_days = 731
application_log_level = "DEBUG"
system_log_level      = "WARN"

role_name                     = "orders-archiver-eu-west-1"
role_permissions_boundary_arn = "arn:aws:iam::111122223333:policy/workload-boundary"
additional_policy_json        = <<-JSON
  {
    "Version": "2012-10-17",
    "Statement": [
      {
        "Sid": "ReadArchiveConfig",
        "Effect": "Allow",
        "Action": "ssm:GetParameter",
        "Resource": "arn:aws:ssm:eu-west-1:111122223333:parameter/orders/archiver"
      }
    ]
  }
JSON

event_source_arn           = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders/consumer/orders-archiver:1700000000"
on_failure_destination_arn = "arn:aws:s3:::orders-failed-batches"
source_kms_key_arn         = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"

starting_position                  = "AT_TIMESTAMP"
starting_position_timestamp        = "2025-01-31T00:00:00Z"
batch_size                         = 500
maximum_batching_window_in_seconds = 5
parallelization_factor             = 4
maximum_retry_attempts             = 3
maximum_record_age_in_seconds      = 3600
tumbling_window_in_seconds         = 60
window_aware                       = true
report_batch_item_failures         = false
filter_criteria = [
  "{\"data\":{\"eventType\":[\"purchase\"]}}",
  "{\"data\":{\"eventType\":[\"add_to_cart\"]}}",
]

tags = {
  team = "orders"
}
