# The module owns the log group (rather than letting Lambda create it on first
# invocation) so retention and encryption are set from the start and the role
# needs no logs:CreateLogGroup.
resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days
  # CloudWatch Logs checks that it may use the key when the group is created:
  # the module key's ARN is known only once its policy is attached.
  kms_key_id = local.kms_key_arn

  tags = var.tags
}
