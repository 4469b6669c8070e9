output "alarm_names" {
  description = "Alarm key to alarm name."
  value       = module.alarms.alarm_names
}

output "dashboard_name" {
  description = "Name of the pipeline dashboard."
  value       = module.alarms.dashboard_name
}

output "kms_key_arn" {
  description = "ARN of the KMS key the module created for the alarm topic."
  value       = module.alarms.kms_key_arn
}

output "topic_arn" {
  description = "ARN of the alarm topic."
  value       = module.alarms.topic_arn
}
