output "bucket_name" {
  description = "Name of the failure bucket."
  value       = module.dlq.bucket_name
}

output "dlq_url" {
  description = "URL of the dead-letter queue, for the replay CLI."
  value       = module.dlq.dlq_url
}

output "processor_function_name" {
  description = "Name of the stream processor function."
  value       = module.clicks_processor.function_name
}

output "s3_on_failure_destination_arn" {
  description = "ARN of the failure bucket, the mapping's on-failure destination."
  value       = module.dlq.s3_on_failure_destination_arn
}
