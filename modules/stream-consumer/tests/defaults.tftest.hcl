# The safe defaults: failure handling of the mapping, the function's
# tracing, logging and encryption, and the permissions on what the module
# creates itself. The provider is mocked (apply gives every computed value a
# fake one); policy documents are asserted on the arguments the module passes
# to them, since the mocked data source renders nothing.

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_resource "aws_kms_key" {
    defaults = {
      arn = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/orders-processor"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111122223333:role/orders-processor"
    }
  }

  mock_resource "aws_lambda_function" {
    defaults = {
      arn = "arn:aws:lambda:eu-west-1:111122223333:function:orders-processor"
    }
  }
}

variables {
  name     = "orders-processor"
  handler  = "stream_processor.app.lambda_handler"
  filename = "../../build/stream_processor.zip"
  # Given, so the package need not exist for these tests.
  source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

  event_source_arn           = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"
  on_failure_destination_arn = "arn:aws:sns:eu-west-1:111122223333:orders-on-failure"
}

run "kinesis_defaults_are_safe" {
  command = apply

  assert {
    condition     = aws_lambda_event_source_mapping.this.bisect_batch_on_function_error == true
    error_message = "bisect_batch_on_function_error must default to true."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.maximum_retry_attempts == 10
    error_message = "Retries must be bounded by default (10)."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.maximum_record_age_in_seconds == 21600
    error_message = "Record age must be bounded by default (6 hours)."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.function_response_types == toset(["ReportBatchItemFailures"])
    error_message = "ReportBatchItemFailures must be on by default."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.destination_config[0].on_failure[0].destination_arn == "arn:aws:sns:eu-west-1:111122223333:orders-on-failure"
    error_message = "The on-failure destination must be set on the mapping."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.this.starting_position == "TRIM_HORIZON" && aws_lambda_event_source_mapping.this.enabled
    error_message = "A new mapping must start at TRIM_HORIZON, enabled."
  }

  assert {
    condition     = output.event_source_type == "kinesis"
    error_message = "A stream ARN must be detected as a polling Kinesis source."
  }

  assert {
    condition = [for s in local.policy_statements : s.sid] == [
      "ReadKinesisStream", "PublishOnFailure", "WriteTraces",
    ]
    error_message = "A Kinesis source with an SNS destination and nothing else must get exactly: stream read, sns:Publish, X-Ray."
  }

  assert {
    condition = one([for s in local.policy_statements : s if s.sid == "ReadKinesisStream"]) == {
      sid = "ReadKinesisStream"
      actions = [
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
      ]
      resources = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]
    }
    error_message = "Stream read must be the five polling actions on the stream ARN only."
  }

  assert {
    condition = one([for s in local.policy_statements : s if s.sid == "PublishOnFailure"]) == {
      sid       = "PublishOnFailure"
      actions   = ["sns:Publish"]
      resources = ["arn:aws:sns:eu-west-1:111122223333:orders-on-failure"]
    }
    error_message = "An SNS destination must get sns:Publish on the topic only."
  }

  assert {
    condition = alltrue([
      for s in local.policy_statements : !contains(s.resources, "*") || s.sid == "WriteTraces"
    ])
    error_message = "Only the X-Ray statement may use the \"*\" resource."
  }

  assert {
    condition     = alltrue(flatten([for s in local.policy_statements : [for a in s.actions : !strcontains(a, "*")]]))
    error_message = "No action may be a wildcard."
  }

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "X-Ray tracing must be active."
  }

  assert {
    condition = (
      aws_lambda_function.this.logging_config[0].log_format == "JSON" &&
      aws_lambda_function.this.logging_config[0].log_group == "/aws/lambda/orders-processor"
    )
    error_message = "Logs must be JSON, in the module's log group."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 365 && aws_cloudwatch_log_group.this.kms_key_id == aws_kms_key.this[0].arn
    error_message = "The log group must keep a year of logs, encrypted with the module's key."
  }

  assert {
    condition     = aws_lambda_function.this.kms_key_arn == aws_kms_key.this[0].arn && aws_kms_key.this[0].enable_key_rotation
    error_message = "Environment variables must be encrypted with the module-created, rotated key."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["POWERTOOLS_SERVICE_NAME"] == "orders-processor"
    error_message = "POWERTOOLS_SERVICE_NAME must default to the function name."
  }

  assert {
    condition = (
      aws_lambda_function.this.runtime == "python3.12" &&
      aws_lambda_function.this.architectures == tolist(["arm64"]) &&
      aws_lambda_function.this.layers == tolist(["arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:25"])
    )
    error_message = "Defaults must be python3.12 on arm64 with the matching regional Powertools layer."
  }

  assert {
    condition = (
      one(data.aws_iam_policy_document.kms[0].statement[1].principals).identifiers == toset(["logs.eu-west-1.amazonaws.com"]) &&
      one(data.aws_iam_policy_document.kms[0].statement[1].condition).variable == "kms:EncryptionContext:aws:logs:arn" &&
      one(data.aws_iam_policy_document.kms[0].statement[1].condition).values == tolist(["arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/orders-processor"])
    )
    error_message = "The module key must let CloudWatch Logs of this Region use it for this function's log group only."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.own_resources.statement[0].actions == toset(["logs:CreateLogStream", "logs:PutLogEvents"]) &&
      data.aws_iam_policy_document.own_resources.statement[0].resources == toset(["arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/orders-processor:*"]) &&
      data.aws_iam_policy_document.own_resources.statement[1].actions == toset(["kms:Decrypt"]) &&
      data.aws_iam_policy_document.own_resources.statement[1].resources == toset([aws_kms_key.this[0].arn])
    )
    error_message = "The role may only write to its own log group (no CreateLogGroup) and decrypt with its environment key."
  }
}
