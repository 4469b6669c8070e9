output "consumer_function_name" {
  description = "The orders validator function."
  value       = module.pipeline.consumer_function_names["orders"]
}

output "dlq_url" {
  description = "The pipeline's dead-letter queue: rejected orders and exhausted batches."
  value       = module.pipeline.dlq_url
}

output "hydrate_function_name" {
  description = "The function that dead-letters the batches the validator gave up on."
  value       = module.pipeline.hydrate_function_name
}

output "orders_table_name" {
  description = "The table valid orders are stored in, keyed by orderId."
  value       = aws_dynamodb_table.orders.name
}

output "stream_name" {
  description = "The orders stream producers put to."
  value       = module.pipeline.stream_name
}
