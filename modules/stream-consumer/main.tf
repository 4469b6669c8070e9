locals {
  # The source type is read from the ARN, so the caller passes one ARN and
  # gets the matching read permissions:
  #   arn:<p>:kinesis:<r>:<a>:stream/<name>                          polling
  #   arn:<p>:kinesis:<r>:<a>:stream/<name>/consumer/<c>:<ts>        enhanced fan-out
  #   arn:<p>:dynamodb:<r>:<a>:table/<name>/stream/<label>           DynamoDB stream
  source_service = element(split(":", var.event_source_arn), 2)
  source_type = (
    local.source_service == "dynamodb" ? "dynamodb" :
    strcontains(var.event_source_arn, "/consumer/") ? "kinesis-efo" : "kinesis"
  )
  # An EFO mapping also reads shard metadata from the stream itself.
  kinesis_stream_arn = local.source_type == "dynamodb" ? null : element(split("/consumer/", var.event_source_arn), 0)

  destination_service = var.on_failure_destination_arn == null ? null : element(split(":", var.on_failure_destination_arn), 2)

  create_kms_key = var.kms_key_arn == null
  kms_key_arn    = local.create_kms_key ? aws_kms_key.this[0].arn : var.kms_key_arn

  source_code_hash = var.source_code_hash != null ? var.source_code_hash : filebase64sha256(var.filename)

  # Public Powertools layer, published by AWS in every commercial Region under
  # one account, one layer per Python version and architecture.
  powertools_layer_arn = format(
    "arn:aws:lambda:%s:017000801446:layer:AWSLambdaPowertoolsPythonV3-%s-%s:%d",
    data.aws_region.current.name,
    replace(var.runtime, ".", ""),
    var.architectures[0],
    var.powertools_layer_version,
  )
  layers = [for layer in var.layers : layer == "powertools" ? local.powertools_layer_arn : layer]

  environment_variables = merge({ POWERTOOLS_SERVICE_NAME = var.name }, var.environment_variables)

  log_group_name = "/aws/lambda/${var.name}"
  role_name      = coalesce(var.role_name, var.name)
}

data "aws_partition" "current" {}

data "aws_region" "current" {}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The function only calls AWS APIs (Kinesis/DynamoDB streams through its event source mapping, DynamoDB, SQS, SNS, KMS, X-Ray) and reaches no VPC resource; attaching it to a VPC would add NAT or endpoints without reducing exposure.
  #checkov:skip=CKV_AWS_116:A function-level dead-letter queue only applies to asynchronous invocations. This function is invoked synchronously by its event source mapping, whose failures go to the mapping's on-failure destination (required by this module) and, per record, to dlq_arn.
  #checkov:skip=CKV_AWS_272:Code signing is an optional input, code_signing_config_arn; when it is unset the package integrity is still pinned by source_code_hash and its deployment is controlled by IAM on lambda:UpdateFunctionCode.
  function_name = var.name
  description   = var.description
  role          = aws_iam_role.this.arn

  filename         = var.filename
  source_code_hash = local.source_code_hash
  handler          = var.handler
  runtime          = var.runtime
  architectures    = var.architectures
  layers           = local.layers

  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  code_signing_config_arn        = var.code_signing_config_arn

  # Environment variables are encrypted with the customer managed key, not the
  # AWS managed aws/lambda key, so key policy and CloudTrail govern reading them.
  kms_key_arn = local.kms_key_arn

  environment {
    variables = local.environment_variables
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = var.application_log_level
    system_log_level      = var.system_log_level
  }

  tags = var.tags

  # The role must be able to write logs and traces before the first invocation.
  depends_on = [aws_iam_role_policy.this, aws_iam_role_policy.own_resources]

  lifecycle {
    precondition {
      condition     = !contains(var.layers, "powertools") || data.aws_partition.current.partition == "aws"
      error_message = "The \"powertools\" entry of layers resolves to the public Powertools layer of the aws partition; in ${data.aws_partition.current.partition} pass the layer version ARN published there (or your own) instead."
    }
  }
}
