output "event_source_mapping_arn" {
  description = "ARN of the event source mapping."
  value       = try(aws_lambda_event_source_mapping.this.arn, null)
}

output "event_source_mapping_uuid" {
  description = "UUID of the event source mapping (its ID in the Lambda API, e.g. for update-event-source-mapping)."
  value       = try(aws_lambda_event_source_mapping.this.uuid, null)
}

output "event_source_type" {
  description = "Source type detected from event_source_arn: kinesis (polling), kinesis-efo (enhanced fan-out consumer) or dynamodb (DynamoDB stream)."
  value       = try(local.source_type, null)
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = try(module.function.function_arn, null)
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = try(module.function.function_name, null)
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the function's environment variables and log group: the module-created key, or kms_key_arn when supplied."
  value       = try(module.function.kms_key_arn, null)
}

output "layers" {
  description = "Layer version ARNs attached to the function."
  value       = try(module.function.layers, null)
}

output "log_group_arn" {
  description = "ARN of the function's CloudWatch log group."
  value       = try(module.function.log_group_arn, null)
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group (/aws/lambda/<name>)."
  value       = try(module.function.log_group_name, null)
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the function's Powertools metrics (its POWERTOOLS_METRICS_NAMESPACE): what the alarms module's metrics_namespace takes."
  value       = module.function.metrics_namespace
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = try(module.function.role_arn, null)
}

output "role_name" {
  description = "Name of the function's execution role, to attach further policies to."
  value       = try(module.function.role_name, null)
}

output "service_name" {
  description = "The function's POWERTOOLS_SERVICE_NAME, the service dimension of its Powertools metrics: what the alarms module's consumer_service_name takes."
  value       = module.function.service_name
}
