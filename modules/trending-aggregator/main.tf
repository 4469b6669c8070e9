# The trending aggregator (functions/trending_aggregator) as one consumer of a pipeline: its
# aggregates table (KMS, point-in-time recovery, TTL), its business dashboard, and the consumer
# entry modules/pipeline deploys it from (output consumer):
#
#   consumers = { processor = { ... }, trending = module.trending.consumer }
#
# The function itself, its mapping (with the tumbling window), DLQ wiring, alarms and IAM come
# from modules/pipeline, like every consumer's.

locals {
  service_name = "trending_aggregator"
  table_name   = "${var.name}-trending-aggregates"
}

module "key" {
  source = "../kms-key"

  description = "Trending aggregates table ${local.table_name}"
  tags        = var.tags
}

# One item per window and shard (functions/trending_aggregator/models.py): hash key windowStart
# (ISO-8601 start of the window), range key part (<shardId>#<first sequence number>). All shards
# of a window share the hash key: one Query reads a window, the reader sums its parts.
resource "aws_dynamodb_table" "this" {
  name                        = local.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "windowStart"
  range_key                   = "part"
  deletion_protection_enabled = var.aggregates.deletion_protection

  attribute {
    name = "windowStart"
    type = "S"
  }

  attribute {
    name = "part"
    type = "S"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = module.key.key_arn
  }

  tags = var.tags
}

locals {
  consumer = {
    package                            = var.package
    handler                            = "trending_aggregator.app.lambda_handler"
    enhanced_fan_out                   = var.consumer_settings.enhanced_fan_out
    batch_size                         = var.consumer_settings.batch_size
    maximum_batching_window_in_seconds = var.consumer_settings.maximum_batching_window_in_seconds
    # Windows are per shard: one lane per shard keeps one state per window and shard.
    parallelization_factor     = 1
    tumbling_window_in_seconds = var.consumer_settings.tumbling_window_in_seconds
    window_aware               = true
    memory_size                = var.consumer_settings.memory_size
    timeout                    = var.consumer_settings.timeout
    table_name                 = aws_dynamodb_table.this.name
    kms_key_arns               = [module.key.key_arn]
    environment_variables = {
      POWERTOOLS_SERVICE_NAME   = local.service_name
      STORED_PRODUCTS_PER_TYPE  = tostring(var.aggregates.stored_products_per_type)
      AGGREGATES_RETENTION_DAYS = tostring(var.aggregates.retention_days)
    }
  }
}
