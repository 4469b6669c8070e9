# stream_processor consuming a DynamoDB stream: events written to a source
# table are enriched into a separate results table. Poison records go to an
# SQS dead-letter queue; batches the event source mapping discards are
# recorded on a second SQS queue (the on-failure destination). Everything is
# encrypted with a customer managed key.
#
# The package comes from `make package` (build/stream_processor.zip at the
# repository root).

module "stream_processor" {
  source = "../.."

  name    = "example-events-processor"
  handler = "stream_processor.app.lambda_handler"
  package = { filename = "${path.module}/../../../../build/stream_processor.zip" }
  layers  = [module.dependencies_layer.arn]

  event_source_arn           = aws_dynamodb_table.events.stream_arn
  on_failure_destination_arn = aws_sqs_queue.on_failure.arn
  dlq_arn                    = aws_sqs_queue.dlq.arn
  dynamodb_table_arns        = [aws_dynamodb_table.results.arn]
  # One key for both tables and the queues: read from the source table's stream (Decrypt via
  # DynamoDB), written to the results table and the queues (via DynamoDB and SQS).
  source_kms_key_arn = module.tables_key.key_arn
  kms_key_arns       = [module.tables_key.key_arn]

  environment_variables = {
    TABLE_NAME = aws_dynamodb_table.results.name
    DLQ_URL    = aws_sqs_queue.dlq.url
  }

  # A DynamoDB stream keeps records 24 hours: 6 hours (the default maximum
  # record age) leaves 18 to handle a failed batch while it is still readable.
  starting_position = "TRIM_HORIZON"

  tags = local.tags
}

# The functions' third-party dependencies, exactly as pinned in requirements/lambda.txt
# (`make package` builds the zip for the functions' Python and architecture).
module "dependencies_layer" {
  source = "../../../lambda-layer"

  name     = "example-events-dependencies"
  filename = "${path.module}/../../../../build/dependencies-python3.12-arm64.zip"
}

locals {
  tags = {
    example = "stream-consumer/dynamodb-stream"
  }
}

# DynamoDB (and its stream) and SQS use the key with their callers'
# credentials: kms-key's account delegation is all they need. Its key_arn is
# known once the key policy is attached, so nothing uses the key before.
module "tables_key" {
  source = "../../../kms-key"

  description = "Tables and queues of example-events"
  tags        = local.tags
}

# The source: its stream carries new images, which the processor stores.
resource "aws_dynamodb_table" "events" {
  name             = "example-events"
  billing_mode     = "PAY_PER_REQUEST"
  hash_key         = "eventId"
  stream_enabled   = true
  stream_view_type = "NEW_IMAGE"

  attribute {
    name = "eventId"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = module.tables_key.key_arn
  }

  tags = local.tags
}

# A separate table: the processor refuses to consume its own table's stream.
resource "aws_dynamodb_table" "results" {
  name         = "example-events-results"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "userId"
  range_key    = "eventKey"

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
    kms_key_arn = module.tables_key.key_arn
  }

  tags = local.tags
}

# Records the function rejects (poison records), with their original images.
resource "aws_sqs_queue" "dlq" {
  name                              = "example-events-dlq"
  message_retention_seconds         = 1209600 # 14 days, the SQS maximum
  kms_master_key_id                 = module.tables_key.key_arn
  kms_data_key_reuse_period_seconds = 300

  tags = local.tags
}

# The mapping sends here the coordinates of every batch it gives up on.
resource "aws_sqs_queue" "on_failure" {
  name                              = "example-events-on-failure"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = module.tables_key.key_arn
  kms_data_key_reuse_period_seconds = 300

  tags = local.tags
}
