locals {
  # Means `var.create_kms_key && var.kms_key_arn == null`, written so that it is
  # known at plan time whenever create_kms_key is false, even when kms_key_arn
  # is not (a key created in the same run). `!(x != null)` rather than
  # `x == null`: checkov renders a null default as a value, resolves the
  # latter to false and drops the key, with its rotation and policy checks,
  # from the scan.
  create_kms_key = var.create_kms_key ? !(var.kms_key_arn != null) : false
  kms_key_arn    = local.create_kms_key ? module.kms_key[0].key_arn : var.kms_key_arn

  source_code_hash = var.source_code_hash != null ? var.source_code_hash : filebase64sha256(var.filename)


  # Powertools' service dimension and metrics namespace default to this function's own: two
  # teams' functions in one account never share the metrics their alarms watch.
  environment_variables = merge(
    { POWERTOOLS_SERVICE_NAME = var.name, POWERTOOLS_METRICS_NAMESPACE = "StreamPipeline/${var.name}" },
    var.environment_variables,
  )

  log_group_name   = "/aws/lambda/${var.name}"
  role_name        = coalesce(var.role_name, var.name)
  role_description = coalesce(var.role_description, "Execution role of Lambda function ${var.name}")
}

data "aws_partition" "current" {}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The functions of this library only call AWS APIs (Kinesis/DynamoDB streams, DynamoDB, SQS, SNS, S3, KMS, X-Ray) and reach no VPC resource; attaching them to a VPC would add NAT or endpoints without reducing exposure.
  #checkov:skip=CKV_AWS_116:A function-level dead-letter queue only applies to asynchronous invocations and records less than an on-failure destination. Stream consumers are invoked synchronously by their event source mapping (whose on-failure destination takes the failures); asynchronously invoked functions get aws_lambda_function_event_invoke_config with an on-failure destination from the calling module (hydrating-dlq does).
  function_name = var.name
  description   = var.description
  role          = aws_iam_role.this.arn

  filename         = var.filename
  source_code_hash = local.source_code_hash
  handler          = var.handler
  runtime          = var.runtime
  architectures    = var.architectures
  layers           = var.layers

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
      condition     = var.create_kms_key || var.kms_key_arn != null
      error_message = "kms_key_arn is required when create_kms_key is false: the function's environment variables and log group are always encrypted with a customer managed key."
    }
  }
}
