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

  source_stream_arns  = [module.stream.stream_arn]
  source_kms_key_arns = [module.stream.kms_key_arn]

  # Only the processor's mapping may put on-failure records on the topic.
  consumer_role_arns = [module.stream_processor.role_arn]

  tags = local.tags
}

module "stream_processor" {
  source = "../../../stream-consumer"

  name     = "example-orders-processor"
  handler  = "stream_processor.app.lambda_handler"
  filename = "${path.module}/../../../../build/stream_processor.zip"

  event_source_arn           = module.stream.consumer_arns["stream-processor"]
  on_failure_destination_arn = module.dlq.on_failure_destination_arn
  # sns:Publish is granted from on_failure_destination_arn; this adds the use
  # of the DLQ's key (for the topic and the queue).
  additional_policy_json = module.dlq.consumer_policy_json
  dlq_arn                = module.dlq.dlq_arn
  dynamodb_table_arns    = [aws_dynamodb_table.results.arn]
  kms_key_arns           = [module.stream.kms_key_arn, aws_kms_key.results.arn]

  environment_variables = {
    TABLE_NAME = aws_dynamodb_table.results.name
    DLQ_URL    = module.dlq.dlq_url
  }

  tags = local.tags
}

locals {
  tags = {
    example = "hydrating-dlq/complete"
  }
}

resource "aws_kms_key" "results" {
  description             = "Results table of example-orders"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  tags = local.tags
}

# Attached separately so the account is read from the key's ARN (no
# aws_caller_identity, which needs credentials at plan time).
resource "aws_kms_key_policy" "results" {
  key_id = aws_kms_key.results.id
  policy = data.aws_iam_policy_document.results_key.json
}

data "aws_iam_policy_document" "results_key" {
  #checkov:skip=CKV_AWS_109:KMS key policy: Resource "*" means "this key" only; management is delegated to the owning account's IAM, as in the AWS default key policy.
  #checkov:skip=CKV_AWS_111:KMS key policy: Resource "*" means "this key" only; IAM policies in the account decide who may use it.
  #checkov:skip=CKV_AWS_356:KMS key policy: Resource "*" is the only documented form and is scoped to the key the policy is attached to.

  # DynamoDB uses the key with its callers' credentials, so delegating to the
  # account's IAM is all it needs.
  statement {
    sid    = "AccountIamDelegation"
    effect = "Allow"

    principals {
      type = "AWS"
      identifiers = [
        format(
          "arn:%s:iam::%s:root",
          element(split(":", aws_kms_key.results.arn), 1),
          element(split(":", aws_kms_key.results.arn), 4),
        )
      ]
    }

    actions = [
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:CreateGrant",
      "kms:Decrypt",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListGrants",
      "kms:ListKeyPolicies",
      "kms:ListKeyRotations",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:RetireGrant",
      "kms:RevokeGrant",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    resources = ["*"]
  }
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
    kms_key_arn = aws_kms_key.results.arn
  }

  tags = local.tags

  depends_on = [aws_kms_key_policy.results]
}
