# The reference pipeline: a Kinesis stream read through an enhanced fan-out
# consumer by stream_processor, which writes to a DynamoDB table. Poison
# records go straight to the hydrating DLQ's queue; batches the event source
# mapping gives up on are announced on its SNS topic, and the hydrate function
# re-reads their records from the stream into the same queue.
#
# The packages come from `make package` (build/stream_processor.zip and
# build/hydrate.zip at the repository root).

module "stream" {
  source = "../../../kinesis-stream"

  name = "example-orders"
  # 7 days: failed batches stay readable long after the mapping's 6-hour
  # maximum record age, even if hydration has to wait for a replay.
  retention_period = 168

  consumers = {
    stream-processor = {}
  }

  tags = local.tags
}

module "dlq" {
  source = "../.."

  name     = "example-orders"
  filename = "${path.module}/../../../../build/hydrate.zip"
  layers   = [module.dependencies_layer.arn]

  source_stream_arns  = [module.stream.stream_arn]
  source_kms_key_arns = [module.stream.kms_key_arn]

  # Only the processor's mapping may put on-failure records on the topic.
  consumer_role_arns = [module.stream_processor.role_arn]

  tags = local.tags
}

module "stream_processor" {
  source = "../../../stream-consumer"

  name    = "example-orders-processor"
  handler = "stream_processor.app.lambda_handler"
  package = { filename = "${path.module}/../../../../build/stream_processor.zip" }
  layers  = [module.dependencies_layer.arn]

  event_source_arn           = module.stream.consumer_arns["stream-processor"]
  on_failure_destination_arn = module.dlq.on_failure_destination_arn
  # sns:Publish is granted from on_failure_destination_arn; this adds the use
  # of the DLQ's key (for the topic and the queue).
  additional_policy_json = module.dlq.consumer_policy_json
  dlq_arn                = module.dlq.dlq_arn
  dynamodb_table_arns    = [aws_dynamodb_table.results.arn]
  source_kms_key_arn     = module.stream.kms_key_arn
  kms_key_arns           = [module.results_key.key_arn]

  environment_variables = {
    TABLE_NAME = aws_dynamodb_table.results.name
    DLQ_URL    = module.dlq.dlq_url
    # Its DLQ envelopes are signed: the replay refuses unsigned ones by default.
    DLQ_MAC_KEY_ARN = module.dlq.mac_key_arn
  }

  tags = local.tags
}

# The functions' third-party dependencies, exactly as pinned in requirements/lambda.txt
# (`make package` builds the zip for the functions' Python and architecture).
module "dependencies_layer" {
  source = "../../../lambda-layer"

  name     = "example-dlq-dependencies"
  filename = "${path.module}/../../../../build/dependencies-python3.12-arm64.zip"
}

locals {
  tags = {
    example = "hydrating-dlq/complete"
  }
}

# DynamoDB uses the key with its callers' credentials: kms-key's account
# delegation is all it needs. Its key_arn is known once the key policy is
# attached, so nothing uses the key before.
module "results_key" {
  source = "../../../kms-key"

  description = "Results table of example-orders"
  tags        = local.tags
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
    kms_key_arn = module.results_key.key_arn
  }

  tags = local.tags
}
