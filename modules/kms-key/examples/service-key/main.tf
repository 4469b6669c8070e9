# A key that CloudWatch Logs may use for one log group only, with an alias.
module "key" {
  source = "../.."

  description = "Log group /aws/lambda/orders-processor"
  alias       = "orders-processor-logs"

  statements = [{
    sid        = "CloudWatchLogs"
    principals = ["logs.eu-west-1.amazonaws.com"]
    actions    = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
    conditions = [{
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/orders-processor"]
    }]
  }]

  tags = {
    example = "kms-key/service-key"
  }
}

output "key_arn" {
  description = "ARN of the key."
  value       = module.key.key_arn
}
