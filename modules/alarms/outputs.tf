output "alarm_arns" {
  description = "Map of alarm key to alarm ARN. Keys are the alarm id (for example dlq-messages-visible) or, for alarms created once per function or consumer, <alarm-id>/<name> (for example consumer-errors/orders-processor)."
  value       = { for key, alarm in merge(aws_cloudwatch_metric_alarm.this, aws_cloudwatch_metric_alarm.backlog) : key => alarm.arn }
}

output "alarm_names" {
  description = "Map of alarm key (as in alarm_arns) to alarm name, <name_prefix>-<alarm-id>[-<name>]."
  value       = { for key, alarm in merge(aws_cloudwatch_metric_alarm.this, aws_cloudwatch_metric_alarm.backlog) : key => alarm.alarm_name }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard, or null when none was created (create_dashboard = false, or no subject given)."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the alarm topic: the module-created key, or kms_key_arn when supplied."
  value       = local.kms_key_arn
}

output "topic_arn" {
  description = "ARN of the SNS topic every alarm notifies (alarm and OK transitions). Subscribe further endpoints to it, or point other alarms at it."
  value       = aws_sns_topic.this.arn
}

output "topic_name" {
  description = "Name of the SNS alarm topic, <name_prefix>-alarms."
  value       = aws_sns_topic.this.name
}
