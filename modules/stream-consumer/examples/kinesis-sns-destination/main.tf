# The reference pipeline's consumer: a Kinesis stream read through an
# enhanced fan-out consumer by stream_processor, which writes to a DynamoDB
# table and sends poison records to an SQS dead-letter queue; batches the
# event source mapping discards are announced on an SNS topic (where a
# hydrating DLQ subscribes). Everything is encrypted with customer managed keys.
#
# The package comes from `make package` (build/stream_processor.zip at the
# repository root).

module "stream" {
  source = "../../../kinesis-stream"

  name = "example-orders"
  # 7 days: the failed batches' records stay readable long after the
  # mapping's 6-hour maximum record age.
  retention_period = 168

  consumers = {
    stream-processor = {}
  }
}

module "stream_processor" {
  source = "../.."

  name    = "example-orders-processor"
  handler = "stream_processor.app.lambda_handler"
  package = { filename = "${path.module}/../../../../build/stream_processor.zip" }
  layers  = [module.dependencies_layer.arn]

  event_source_arn           = module.stream.consumer_arns["stream-processor"]
  on_failure_destination_arn = aws_sns_topic.on_failure.arn
  dlq_arn                    = aws_sqs_queue.dlq.arn
  dynamodb_table_arns        = [aws_dynamodb_table.results.arn]
  # The stream's key is only read through Kinesis (kms:Decrypt); the pipeline's key encrypts
  # what the function and its mapping write to (table, DLQ, topic).
  source_kms_key_arn = module.stream.kms_key_arn
  kms_key_arns       = [module.pipeline_key.key_arn]

  # The function's environment and logs use the pipeline's key too. Its ARN is
  # known only after apply, so create_kms_key = false tells the module at plan
  # time that it creates no key of its own.
  kms_key_arn    = module.pipeline_key.key_arn
  create_kms_key = false

  environment_variables = {
    TABLE_NAME = aws_dynamodb_table.results.name
    DLQ_URL    = aws_sqs_queue.dlq.url
  }

  # Failure handling stays on the module defaults: bisect, 10 retries,
  # 6-hour maximum record age, ReportBatchItemFailures.
  batch_size                         = 100
  maximum_batching_window_in_seconds = 1

  tags = local.tags
}

# The functions' third-party dependencies, exactly as pinned in requirements/lambda.txt
# (`make package` builds the zip for the functions' Python and architecture).
module "dependencies_layer" {
  source = "../../../lambda-layer"

  name     = "example-stream-dependencies"
  filename = "${path.module}/../../../../build/dependencies-python3.12-arm64.zip"
}

locals {
  tags = {
    example = "stream-consumer/kinesis-sns-destination"
  }
}

# SQS, SNS and DynamoDB use the key with their callers' credentials:
# kms-key's account delegation is all they need; CloudWatch Logs gets a grant
# for the function's log group only. Its key_arn is known once the key policy
# is attached, so nothing uses the key before.
module "pipeline_key" {
  source = "../../../kms-key"

  description = "Function, results table, dead-letter queue and on-failure topic of example-orders"
  log_groups = {
    CloudWatchLogsForTheProcessor = "/aws/lambda/example-orders-processor"
  }
  tags = local.tags
}

resource "aws_dynamodb_table" "results" {
  name         = "example-orders-results"
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
    kms_key_arn = module.pipeline_key.key_arn
  }

  tags = local.tags
}

# Records the function rejects (poison records), with their original bytes.
resource "aws_sqs_queue" "dlq" {
  name                              = "example-orders-dlq"
  message_retention_seconds         = 1209600 # 14 days, the SQS maximum
  kms_master_key_id                 = module.pipeline_key.key_arn
  kms_data_key_reuse_period_seconds = 300

  tags = local.tags
}

# The mapping publishes here the coordinates of every batch it gives up on.
resource "aws_sns_topic" "on_failure" {
  name              = "example-orders-on-failure"
  kms_master_key_id = module.pipeline_key.key_arn

  tags = local.tags
}
