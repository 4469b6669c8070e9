# Created when a consumer writes to it (write_results_table).
module "results_key" {
  source = "../kms-key"
  count  = local.results_table_enabled ? 1 : 0

  description = "Results table ${var.name}-results"
  tags        = var.tags
}

# The retail processor's enriched events. Keys: userId + eventKey (13-digit timestamp "#" eventId), so
# distinct events never overwrite each other and a redelivered event rewrites its own item.
resource "aws_dynamodb_table" "this" {
  count = local.results_table_enabled ? 1 : 0

  name                        = "${var.name}-results"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "userId"
  range_key                   = "eventKey"
  deletion_protection_enabled = var.results_table_deletion_protection

  attribute {
    name = "userId"
    type = "S"
  }

  attribute {
    name = "eventKey"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = module.results_key[0].key_arn
  }

  tags = var.tags
}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  # How applications find an item: stream_processor writes one item per event under these keys
  # (functions/stream_processor/models.py).
  results_table_key_scheme = local.results_table_enabled ? {
    hash_key  = "userId"
    range_key = "eventKey"
    range_key_format = join("", [
      "<event timestamp in epoch milliseconds, 13 zero-padded digits>#<eventId>: ",
      "Query userId = :u AND eventKey BETWEEN :from AND :until for a time range, ",
      "GetItem with both keys for one event",
    ])
  } : null

  # Read-only access for applications querying the results: jsonencode rather than a policy
  # document data source, so that the statements can be asserted in a plan.
  results_reader_policy_json = local.results_table_enabled ? jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadResults"
        Effect   = "Allow"
        Action   = ["dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query"]
        Resource = [aws_dynamodb_table.this[0].arn]
      },
      {
        # Only when DynamoDB asks on the reader's behalf: the key decrypts nothing else for it.
        Sid       = "DecryptResultsViaDynamoDB"
        Effect    = "Allow"
        Action    = ["kms:Decrypt"]
        Resource  = [module.results_key[0].key_arn]
        Condition = { StringEquals = { "kms:ViaService" = "dynamodb.${data.aws_region.current.id}.${data.aws_partition.current.dns_suffix}" } }
      },
    ]
  }) : null
}
