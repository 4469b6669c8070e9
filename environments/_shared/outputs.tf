# What operators and the local tools read (`terraform -chdir=environments/<env> output`).

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = module.pipeline.alarm_topic_arn
}

output "consumer_function_name" {
  description = "Name of the stream_processor function (the processor consumer)."
  value       = module.pipeline.consumer_function_names["processor"]
}

output "consumer_function_names" {
  description = "Name of each consumer function, by consumers key."
  value       = module.pipeline.consumer_function_names
}

output "consumer_event_source_mapping_uuids" {
  description = "UUID of each consumer's event source mapping, by consumers key (stream-pipeline rewind reads it)."
  value       = module.pipeline.consumer_event_source_mapping_uuids
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the pipeline."
  value       = module.pipeline.dashboard_name
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = module.pipeline.dlq_arn
}

output "dlq_mac_key_arn" {
  description = "ARN of the KMS HMAC key the DLQ envelopes are signed with (make replay ENV=<env> verifies with it)."
  value       = module.pipeline.dlq_mac_key_arn
}

output "dlq_url" {
  description = "URL of the dead-letter queue (make replay ENV=<env> reads it)."
  value       = module.pipeline.dlq_url
}

output "email_notifier_efo_consumer_arn" {
  description = "Enhanced fan-out consumer the e-mail notifier reads the stream through (null without it)."
  value       = module.pipeline.email_notifier_efo_consumer_arn
}

output "email_notifier_function_name" {
  description = "Name of the email_notifier function (null without it)."
  value       = module.pipeline.email_notifier_function_name
}

output "email_notifier_idempotency_table_name" {
  description = "Idempotency table of the e-mail notifier (null without it)."
  value       = module.pipeline.email_notifier_idempotency_table_name
}

output "failure_bucket_name" {
  description = "Name of the failure bucket, null when the environment does not enable it (make replay ENV=<env> reads it)."
  value       = module.pipeline.failure_bucket_name
}

output "field_encryption_key_arn" {
  description = "KMS key of the results table's sensitive fields (stream_pipeline.kit.FieldDecryptor's key_arn)."
  value       = module.pipeline.field_encryption_key_arn
}

output "fraud_alert_topic_arn" {
  description = "SNS topic the fraud detector publishes one message per flag to."
  value       = module.fraud.alert_topic_arn
}

output "fraud_flags_table_name" {
  description = "Table of the fraud detector's flags, one per (userId, rule, window) (make demo reads it)."
  value       = module.fraud.flags_table_name
}

output "hydrate_function_name" {
  description = "Name of the hydrate function."
  value       = module.pipeline.hydrate_function_name
}

output "on_failure_topic_arn" {
  description = "SNS topic that receives the consumer's failed-batch records."
  value       = module.pipeline.on_failure_topic_arn
}

output "producer_policy_json" {
  description = "IAM policy to attach to producers: put records on the stream, encrypt through Kinesis with its key."
  value       = module.pipeline.producer_policy_json
}

output "results_reader_policy_json" {
  description = "IAM policy to attach to applications that query the results table: read-only, decrypt through DynamoDB with its key, decrypt its sensitive fields."
  value       = module.pipeline.results_reader_policy_json
}

output "results_table_key_scheme" {
  description = "How to query the results table: its hash and range keys and the range key's format."
  value       = module.pipeline.results_table_key_scheme
}

output "results_table_name" {
  description = "Name of the results table."
  value       = module.pipeline.results_table_name
}

output "sensitive_fields" {
  description = "Attributes of the results table stored encrypted (FieldDecryptor's fields)."
  value       = module.pipeline.sensitive_fields
}

output "stream_arn" {
  description = "ARN of the stream producers write to."
  value       = module.pipeline.stream_arn
}

output "stream_name" {
  description = "Name of the stream producers write to."
  value       = module.pipeline.stream_name
}
