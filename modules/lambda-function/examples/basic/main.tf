# One function on its own, configured completely: the stream processor's
# package from `make package` (build/stream_processor.zip at the repository
# root), the table and queue its code writes to, and exactly the permissions
# that code needs, passed as a policy document. The module adds X-Ray, the log
# group and the key of the environment and logs; the dependencies layer
# comes from modules/lambda-layer.
# (stream-consumer is this plus an event source mapping.)

module "function" {
  source = "../.."

  name        = "example-basic-function"
  description = "Stores stream records in a table; rejects go to a queue"
  handler     = "stream_processor.app.lambda_handler"
  filename    = "${path.module}/../../../../build/stream_processor.zip"
  layers      = [module.dependencies_layer.arn]

  policy_json = data.aws_iam_policy_document.function.json

  environment_variables = {
    TABLE_NAME = aws_dynamodb_table.results.name
    DLQ_URL    = aws_sqs_queue.dlq.url
  }

  memory_size = 512
  timeout     = 30

  tags = local.tags
}

# The functions' third-party dependencies, exactly as pinned in requirements/lambda.txt
# (`make package` builds the zip for the functions' Python and architecture).
module "dependencies_layer" {
  source = "../../../lambda-layer"

  name     = "example-basic-function-dependencies"
  filename = "${path.module}/../../../../build/dependencies-python3.12-arm64.zip"
}

locals {
  tags = {
    example = "lambda-function/basic"
  }
}

# What the function's code calls, and nothing else. The table and the queue
# use the function's key (its policy delegates to the account's IAM, which is
# all DynamoDB and SQS need), to keep the example short.
data "aws_iam_policy_document" "function" {
  statement {
    sid       = "WriteResults"
    effect    = "Allow"
    actions   = ["dynamodb:BatchWriteItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.results.arn]
  }

  statement {
    sid       = "SendToDeadLetterQueue"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }

  # Through DynamoDB and SQS only: the code never calls KMS itself.
  statement {
    sid       = "UseKey"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [module.function.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "dynamodb.${data.aws_region.current.id}.${data.aws_partition.current.dns_suffix}",
        "sqs.${data.aws_region.current.id}.${data.aws_partition.current.dns_suffix}",
      ]
    }
  }
}

data "aws_partition" "current" {}

data "aws_region" "current" {}

resource "aws_dynamodb_table" "results" {
  name         = "example-basic-function-results"
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
    kms_key_arn = module.function.kms_key_arn
  }

  tags = local.tags
}

resource "aws_sqs_queue" "dlq" {
  name                              = "example-basic-function-dlq"
  message_retention_seconds         = 1209600 # 14 days, the SQS maximum
  kms_master_key_id                 = module.function.kms_key_arn
  kms_data_key_reuse_period_seconds = 300

  tags = local.tags
}
