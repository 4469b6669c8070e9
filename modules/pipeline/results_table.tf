# Created when a consumer writes to it (write_results_table).
module "results_key" {
  source = "../kms-key"
  count  = local.results_table_enabled ? 1 : 0

  description = "Results table ${var.name}-results"
  tags        = var.tags
}

# The sensitive fields' own key (var.sensitive_fields): the consumers writing the table may only
# generate data keys with it, the readers given results_reader_policy_json only decrypt, each
# for this table's encryption context. A key of its own rather than the table's: the consumers
# hold kms:Decrypt on the table's key, which DynamoDB needs for their writes.
module "field_key" {
  source = "../kms-key"
  count  = local.field_encryption_enabled ? 1 : 0

  description = "Sensitive fields of results table ${var.name}-results"
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
  field_encryption_enabled = local.results_table_enabled && length(var.sensitive_fields) > 0
  sensitive_fields         = distinct(var.sensitive_fields)

  # What the kit's field encryption puts in every KMS request (stream_pipeline.kit.field_encryption):
  # the conditions that pin both grants to this table's declared fields.
  field_encryption_conditions = local.field_encryption_enabled ? [
    { test = "StringEquals", variable = "kms:EncryptionContext:table", values = [aws_dynamodb_table.this[0].name] },
    { test = "StringEquals", variable = "kms:EncryptionContext:field", values = local.sensitive_fields },
  ] : []

  # The consumers writing the results table encrypt with the field key (consumers.tf).
  field_encryption_environment = local.field_encryption_enabled ? {
    FIELD_ENCRYPTION_KEY_ARN = module.field_key[0].key_arn
    SENSITIVE_FIELDS         = join(",", local.sensitive_fields)
  } : {}

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
    Statement = concat([
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
      ], local.field_encryption_enabled ? [
      {
        # The sensitive fields, decrypted by the reader itself (stream_pipeline.kit.FieldDecryptor):
        # only values encrypted for this table and its declared fields.
        Sid      = "DecryptSensitiveFields"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [module.field_key[0].key_arn]
        Condition = {
          StringEquals = {
            "kms:EncryptionContext:table" = aws_dynamodb_table.this[0].name
            "kms:EncryptionContext:field" = local.sensitive_fields
          }
        }
      },
    ] : [])
  }) : null
}
