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
