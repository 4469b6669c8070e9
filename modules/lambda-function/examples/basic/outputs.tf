output "function_arn" {
  description = "ARN of the function."
  value       = module.function.function_arn
}

output "function_name" {
  description = "Name of the function."
  value       = module.function.function_name
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = module.function.log_group_name
}

output "role_name" {
  description = "Name of the function's execution role."
  value       = module.function.role_name
}

output "table_name" {
  description = "Name of the results table."
  value       = aws_dynamodb_table.results.name
}
