# S3 mode with everything off its default: a Kinesis and a DynamoDB stream
# with their keys, the consumers' roles in the topic policy, the caller's
# key, access logging, and the hydrate function tuned.
name     = "orders"
filename = "../../build/hydrate.zip"
source_stream_arns = [
  "arn:aws:kinesis:eu-west-1:111122223333:stream/orders",
  "arn:aws:dynamodb:eu-west-1:111122223333:table/profiles/stream/2025-01-31T00:00:00.000",
]
source_kms_key_arns = ["arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"]
consumer_role_arns = [
  "arn:aws:iam::111122223333:role/orders-processor",
  "arn:aws:iam::111122223333:role/service/orders-archiver",
]

kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"

enable_s3_failure_bucket = true
s3_bucket_name           = "orders-failures-eu-west-1"
s3_expiration_days       = 90
access_logging           = { enabled = true, target_bucket = "org-s3-access-logs" }

maximum_retry_attempts         = 1
maximum_event_age_in_seconds   = 3600
dlq_visibility_timeout_seconds = 900

powertools_service_name        = "orders-hydrate"
powertools_metrics_namespace   = "Orders"
runtime                        = "python3.13"
architectures                  = ["x86_64"]
layers                         = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies-py313-x86:2"]
memory_size                    = 512
timeout                        = 300
reserved_concurrent_executions = 10
log_retention_in_days          = 731
role_permissions_boundary_arn  = "arn:aws:iam::111122223333:policy/workload-boundary"

tags = {
  team = "orders"
}
