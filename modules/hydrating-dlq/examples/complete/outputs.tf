output "dlq_url" {
  description = "URL of the dead-letter queue (poison records and hydrated failed batches), for the replay CLI."
  value       = module.dlq.dlq_url
}

output "hydrate_function_name" {
  description = "Name of the hydrate function."
  value       = module.dlq.hydrate_function_name
}

output "on_failure_topic_arn" {
  description = "ARN of the SNS topic receiving the records of discarded batches."
  value       = module.dlq.on_failure_destination_arn
}

output "processor_function_name" {
  description = "Name of the stream processor function."
  value       = module.stream_processor.function_name
}

output "stream_name" {
  description = "Name of the Kinesis stream."
  value       = module.stream.stream_name
}

output "table_name" {
  description = "Name of the results table."
  value       = aws_dynamodb_table.results.name
}
