output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = try(module.alarms.topic_arn, null)
}

output "consumer_efo_consumer_arns" {
  description = "ARN of each consumer's enhanced fan-out consumer, by consumers key; only the consumers with enhanced_fan_out."
  value       = { for key, consumer in local.consumers : key => try(module.stream.consumer_arns[consumer.efo_consumer_name], null) if consumer.enhanced_fan_out }
}

output "consumer_event_source_mapping_uuids" {
  description = "UUID of each consumer's event source mapping (its ID in the Lambda API), by consumers key."
  value       = { for key, consumer in module.consumer : key => consumer.event_source_mapping_uuid }
}

output "consumer_function_names" {
  description = "Name of each consumer function (<name>-<key>), by consumers key."
  value       = { for key, consumer in module.consumer : key => consumer.function_name }
}

output "consumer_role_arns" {
  description = "ARN of each consumer function's execution role, by consumers key (to attach further policies, or to admit it in a resource policy)."
  value       = { for key, consumer in module.consumer : key => consumer.role_arn }
}

output "consumer_service_names" {
  description = "POWERTOOLS_SERVICE_NAME of each consumer function, the service dimension of its metrics and its DLQ alarm, by consumers key."
  value       = { for key, consumer in module.consumer : key => consumer.service_name }
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the pipeline."
  value       = try(module.alarms.dashboard_name, null)
}

output "dependencies_layer_arn" {
  description = "ARN of the dependencies layer version every function runs on."
  value       = module.dependencies_layer.arn
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue."
  value       = try(module.dlq.dlq_arn, null)
}

output "dlq_mac_key_arn" {
  description = "ARN of the KMS HMAC key the pipeline's functions sign DLQ envelopes with: the replay CLI verifies with it (make replay ENV=<env> reads it); the replay role needs kms:VerifyMac on it."
  value       = try(module.dlq.mac_key_arn, null)
}

output "dlq_url" {
  description = "URL of the dead-letter queue (make replay reads it)."
  value       = try(module.dlq.dlq_url, null)
}

output "email_notifier_configuration_set_name" {
  description = "SES configuration set of every e-mail the notifier sends (reputation metrics, bounce and complaint alarms); null without the notifier."
  value       = try(aws_sesv2_configuration_set.notifier[0].configuration_set_name, null)
}

output "email_notifier_efo_consumer_arn" {
  description = "ARN of the e-mail notifier's enhanced fan-out consumer; null without the notifier."
  value       = try(module.stream.consumer_arns[local.notifier.efo_consumer_name], null)
}

output "email_notifier_function_name" {
  description = "Name of the email_notifier function; null without the notifier."
  value       = try(module.email_notifier[0].function_name, null)
}

output "email_notifier_idempotency_table_name" {
  description = "Name of the e-mail notifier's idempotency table; null without the notifier."
  value       = try(aws_dynamodb_table.notifier_idempotency[0].name, null)
}

output "email_notifier_rate_limit_table_name" {
  description = "Name of the e-mail notifier's per-recipient rate-limit table; null without the notifier."
  value       = try(aws_dynamodb_table.notifier_rate_limit[0].name, null)
}

output "failure_bucket_name" {
  description = "Name of the hydrating DLQ's failure bucket (the hydrate function's claim-check objects; make replay reads it); null unless enable_s3_failure_bucket is true."
  value       = try(module.dlq.bucket_name, null)
}

output "field_encryption_key_arn" {
  description = "ARN of the KMS key of the results table's sensitive fields (FieldDecryptor's key_arn); null without the table or without sensitive_fields."
  value       = local.field_encryption_enabled ? module.field_key[0].key_arn : null
}

output "hydrate_function_name" {
  description = "Name of the hydrate function."
  value       = try(module.dlq.hydrate_function_name, null)
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the functions' EMF metrics."
  value       = local.metrics_namespace
}

output "on_failure_topic_arn" {
  description = "SNS topic the consumers' event source mappings announce failed batches on."
  value       = try(module.dlq.on_failure_destination_arn, null)
}

output "producer_policy_json" {
  description = "Least-privilege IAM policy for producers of the stream."
  value       = try(module.stream.producer_policy_json, null)
}

output "results_reader_policy_json" {
  description = "Least-privilege IAM policy for applications that read the results table: GetItem, BatchGetItem, Query and DescribeTable on it, kms:Decrypt on its key via DynamoDB only, and kms:Decrypt on the sensitive fields' key for this table's encryption context (table, field) only; null without the table."
  value       = local.results_reader_policy_json
}

output "results_table_key_scheme" {
  description = "Keys of the results table items (hash_key, range_key and how range_key is built), for applications that query it; null without the table."
  value       = local.results_table_key_scheme
}

output "results_table_name" {
  description = "Name of the results table; null when no consumer writes to it (write_results_table)."
  value       = try(aws_dynamodb_table.this[0].name, null)
}

output "sensitive_fields" {
  description = "The results table's attributes stored encrypted (FieldDecryptor's fields); [] without the table or without sensitive_fields."
  value       = local.field_encryption_enabled ? local.sensitive_fields : []
}

output "stream_arn" {
  description = "ARN of the stream."
  value       = try(module.stream.stream_arn, null)
}

output "stream_name" {
  description = "Name of the stream."
  value       = try(module.stream.stream_name, null)
}
