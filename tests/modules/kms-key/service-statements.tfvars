# A key shared by SNS and CloudWatch Logs, with a short deletion window and an alias.
description             = "On-failure topic and logs of orders"
alias                   = "orders-pipeline"
deletion_window_in_days = 7
statements = [
  {
    sid        = "SnsTopic"
    principals = ["sns.amazonaws.com"]
    actions    = ["kms:Decrypt", "kms:GenerateDataKey"]
  },
  {
    sid            = "CrossAccountConsumer"
    principal_type = "AWS"
    principals     = ["arn:aws:iam::444455556666:role/reader"]
    actions        = ["kms:Decrypt"]
    conditions     = [{ test = "StringEquals", variable = "kms:ViaService", values = ["kinesis.eu-west-1.amazonaws.com"] }]
  },
]
tags = { team = "payments" }
