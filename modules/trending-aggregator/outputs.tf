output "aggregates_key_arn" {
  description = "ARN of the KMS key encrypting the aggregates table (a reader needs kms:Decrypt on it via DynamoDB)."
  value       = module.key.key_arn
}

output "aggregates_table_arn" {
  description = "ARN of the aggregates table."
  value       = aws_dynamodb_table.this.arn
}

output "aggregates_table_name" {
  description = "Name of the aggregates table: hash key windowStart (ISO-8601 window start), range key part (<shardId>#<first sequence number>), one item per window and shard."
  value       = aws_dynamodb_table.this.name
}

output "consumer" {
  description = "The aggregator as one entry of modules/pipeline's consumers (package, handler, enhanced_fan_out, batch settings, parallelization_factor 1, tumbling_window_in_seconds, window_aware = true, memory_size, timeout, table_name, kms_key_arns, environment_variables): consumers = { trending = module.trending.consumer }."
  value       = local.consumer
}

output "dashboard_name" {
  description = "Name of the CloudWatch business dashboard, <name>-trending."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
