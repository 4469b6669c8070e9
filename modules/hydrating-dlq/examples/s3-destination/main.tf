# S3 mode: the consumer's event source mapping writes each batch it gives up
# on to the failure bucket, records and data included (no re-read from the
# stream, so nothing depends on the stream's retention). The hydrate function
# stays subscribed to the topic for consumers that use it, and stores records
# too large for an SQS message in the same bucket (claim-check).
#
# The packages come from `make package` (build/stream_processor.zip and
# build/hydrate.zip at the repository root).

module "stream" {
  source = "../../../kinesis-stream"

  name             = "example-clicks"
  retention_period = 24

  tags = local.tags
}

module "dlq" {
  source = "../.."

  name     = "example-clicks"
  filename = "${path.module}/../../../../build/hydrate.zip"
  layers   = [module.dependencies_layer.arn]

  source_stream_arns  = [module.stream.stream_arn]
  source_kms_key_arns = [module.stream.kms_key_arn]

  enable_s3_failure_bucket = true
  s3_expiration_days       = 30
  # Server access logs into a log bucket the organisation already runs.
  access_logging = { enabled = true, target_bucket = var.access_log_bucket }

  # The processor sends its poison records to the DLQ (and signs them), and
  # its mapping writes its failed batches under aws/lambda/: both are denied
  # to every other role of the account.
  consumer_role_arns             = [module.clicks_processor.role_arn]
  s3_on_failure_writer_role_arns = [module.clicks_processor.role_arn]

  tags = local.tags
}

module "clicks_processor" {
  source = "../../../stream-consumer"

  name    = "example-clicks-processor"
  handler = "stream_processor.app.lambda_handler"
  package = { filename = "${path.module}/../../../../build/stream_processor.zip" }
  layers  = [module.dependencies_layer.arn]

  event_source_arn = module.stream.stream_arn
  # s3:PutObject (under aws/lambda/) and s3:ListBucket are granted from the
  # bucket ARN; consumer_policy_json adds the use of the bucket's key.
  on_failure_destination_arn = module.dlq.s3_on_failure_destination_arn
  additional_policy_json     = module.dlq.consumer_policy_json
  dlq_arn                    = module.dlq.dlq_arn
  dynamodb_table_arns        = [aws_dynamodb_table.results.arn]
  source_kms_key_arn         = module.stream.kms_key_arn
  # The results table shares the DLQ's key: used through DynamoDB (and SQS, S3) by this role.
  kms_key_arns = [module.dlq.kms_key_arn]

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

  name     = "example-s3-dlq-dependencies"
  filename = "${path.module}/../../../../build/dependencies-python3.12-arm64.zip"
}

locals {
  tags = {
    example = "hydrating-dlq/s3-destination"
  }
}

# Encrypted with the DLQ module's key (its policy delegates to the account's
# IAM, which is all DynamoDB needs), to keep the example short.
resource "aws_dynamodb_table" "results" {
  name         = "example-clicks-results"
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
    kms_key_arn = module.dlq.kms_key_arn
  }

  tags = local.tags
}
