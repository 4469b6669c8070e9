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
}

# The function, its log group, key and execution role come from the library's
# lambda-function module; this module adds the event source mapping and the
# permissions it needs (policy_json), which the mapping uses through the same
# role.
module "function" {
  source = "../lambda-function"

  name        = var.name
  description = var.description
  handler     = var.handler
  # package.tf: the given zip, or the one terraform_data.package builds (its output, so the
  # function waits for the build). With a given zip and no hash, the child computes
  # filebase64sha256(filename).
  filename         = local.build_package ? terraform_data.package[0].output : var.package.filename
  source_code_hash = local.package_source_code_hash

  runtime       = var.runtime
  architectures = var.architectures
  layers        = var.layers

  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrent_executions
  code_signing_config_arn        = var.code_signing_config_arn

  environment_variables = var.environment_variables

  create_kms_key                  = var.create_kms_key
  kms_key_arn                     = var.kms_key_arn
  kms_key_deletion_window_in_days = var.kms_key_deletion_window_in_days

  log_retention_in_days = var.log_retention_in_days
  application_log_level = var.application_log_level
  system_log_level      = var.system_log_level

  role_name                     = var.role_name
  role_description              = "Execution role of Lambda function ${var.name} and its event source mapping"
  role_permissions_boundary_arn = var.role_permissions_boundary_arn
  policy_name                   = "stream-consumer"
  policy_json                   = data.aws_iam_policy_document.this.json

  tags = var.tags
}
