# One key for everything the module stores: the topic, the DLQ, the bucket and
# the hydrate function's environment and log group. Built with the library's
# kms-key module (account delegation, rotation, no aws_caller_identity); its
# key_arn is known only once the policy below is attached, so nothing uses the
# key before its grants exist.
#
# SQS, S3, Lambda (environment, async destination) and the consumers' event
# source mappings use the key with their callers' own credentials: the account
# delegation plus the roles' IAM policies is all they need. Two services use
# it on their own behalf and get a statement each.
module "kms_key" {
  source = "../kms-key"
  count  = local.create_kms_key ? 1 : 0

  description             = "On-failure topic, dead-letter queue, failure bucket and hydrate function of ${var.name}"
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  statements              = local.kms_statements
  log_groups              = local.kms_log_groups
  tags                    = var.tags
}

locals {
  # {partition} and {account_id} are the key's own, filled in by kms-key: the
  # topic is in the key's account and Region.
  kms_statements = [
    {
      # SNS itself (not a caller's role) writes an undeliverable notification
      # to the encrypted DLQ (subscription redrive), for this topic only.
      sid        = "SnsRedriveFromThisTopic"
      principals = ["sns.${data.aws_partition.current.dns_suffix}"]
      actions    = ["kms:Decrypt", "kms:GenerateDataKey"]
      conditions = [{
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = ["arn:{partition}:sns:${data.aws_region.current.id}:{account_id}:${local.topic_name}"]
      }]
    },
  ]

  # CloudWatch Logs encrypts with the key itself; kms-key pins its statement
  # to the hydrate function's log group (encryption context).
  kms_log_groups = { CloudWatchLogsForHydrateLogGroup = "/aws/lambda/${local.function_name}" }
}
