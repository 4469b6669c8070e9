# The key of the function's environment variables and log group, unless the caller brings one.
# Built with the library's kms-key module (rotation, account delegation, no aws_caller_identity);
# its key_arn is known only once the key policy is attached, so neither the log group nor the
# function uses the key before CloudWatch Logs may.
#
# Lambda decrypts the environment with the function role's own permission (iam.tf) through the
# account delegation; CloudWatch Logs gets a statement of its own, for this log group only.
module "kms_key" {
  source = "../kms-key"
  count  = local.create_kms_key ? 1 : 0

  description             = "Environment variables and log group of Lambda function ${var.name}"
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  log_groups              = local.kms_log_groups
  tags                    = var.tags
}

locals {
  kms_log_groups = { CloudWatchLogsForThisLogGroup = local.log_group_name }
}
