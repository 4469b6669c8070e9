# The topic's key, unless the caller brings one. SNS encrypts a message with the publisher's
# permissions on the key, and the publisher here is CloudWatch: without the statement below
# every alarm notification is dropped, with no error anywhere. The conditions admit only
# alarms of this account named <name_prefix>-*.
module "kms_key" {
  source = "../kms-key"
  count  = local.create_kms_key ? 1 : 0

  description             = "Alarm notifications on SNS topic ${local.topic_name}"
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  tags                    = var.tags

  statements = [{
    sid        = "CloudWatchAlarmsUseKey"
    principals = ["cloudwatch.${data.aws_partition.current.dns_suffix}"]
    actions    = ["kms:Decrypt", "kms:GenerateDataKey"]
    conditions = [
      { test = "StringEquals", variable = "aws:SourceAccount", values = ["{account_id}"] },
      {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = [format("arn:{partition}:cloudwatch:%s:{account_id}:alarm:%s-*", data.aws_region.current.id, var.name_prefix)]
      },
    ]
  }]
}
