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

output "on_failure_topic_arn" {
  description = "ARN of the SNS topic receiving the records of discarded batches."
  value       = aws_sns_topic.on_failure.arn
}

output "stream_name" {
  description = "Name of the Kinesis stream."
  value       = module.stream.stream_name
}

output "table_name" {
  description = "Name of the results table."
  value       = aws_dynamodb_table.results.name
}
