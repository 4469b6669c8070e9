output "function_arn" {
  description = "ARN of the Lambda function."
  value       = try(aws_lambda_function.this.arn, null)
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = try(aws_lambda_function.this.function_name, null)
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the function's environment variables and log group: the module-created key, or kms_key_arn when supplied."
  value       = try(local.kms_key_arn, null)
}

output "layers" {
  description = "Layer version ARNs attached to the function."
  value       = var.layers
}

output "log_group_arn" {
  description = "ARN of the function's CloudWatch log group."
  value       = try(aws_cloudwatch_log_group.this.arn, null)
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group (/aws/lambda/<name>)."
  value       = try(aws_cloudwatch_log_group.this.name, null)
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the function's Powertools metrics (its POWERTOOLS_METRICS_NAMESPACE): what the alarms module's metrics_namespace takes."
  value       = local.environment_variables["POWERTOOLS_METRICS_NAMESPACE"]
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = try(aws_iam_role.this.arn, null)
}

output "role_name" {
  description = "Name of the function's execution role, to attach further policies to."
  value       = try(aws_iam_role.this.name, null)
}

output "service_name" {
  description = "The function's POWERTOOLS_SERVICE_NAME, the service dimension of its Powertools metrics: what the alarms module's *_service_name inputs take."
  value       = local.environment_variables["POWERTOOLS_SERVICE_NAME"]
}
