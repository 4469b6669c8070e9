output "alert_topic_arn" {
  description = "ARN of the SNS topic a message per fraud flag is published to (subscribe analysts or a case system)."
  value       = aws_sns_topic.alerts.arn
}

output "consumer" {
  description = "The fraud detector as one entry of modules/pipeline's consumers: package, handler, its own enhanced fan-out consumer, an event filter on purchases and add-to-carts, its tables, topic and thresholds as environment variables, its key and least-privilege statements."
  value       = local.consumer
}

output "flags_table_name" {
  description = "Name of the flags table: one item per (userId, rule, window)."
  value       = aws_dynamodb_table.flags.name
}

output "history_table_name" {
  description = "Name of the history table (events and countries per user, with TTL)."
  value       = aws_dynamodb_table.history.name
}

output "kms_key_arn" {
  description = "ARN of the key encrypting the tables and the topic."
  value       = module.key.key_arn
}
