output "dlq_url" {
  description = "URL of the dead-letter queue the function sends poison records to."
  value       = aws_sqs_queue.dlq.url
}

output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping."
  value       = module.stream_processor.event_source_mapping_uuid
}

output "function_name" {
  description = "Name of the stream processor function."
  value       = module.stream_processor.function_name
}

output "on_failure_queue_url" {
  description = "URL of the SQS queue receiving the records of discarded batches."
  value       = aws_sqs_queue.on_failure.url
}

output "source_table_name" {
  description = "Name of the table whose stream is consumed."
  value       = aws_dynamodb_table.events.name
}

output "table_name" {
  description = "Name of the results table."
  value       = aws_dynamodb_table.results.name
}
