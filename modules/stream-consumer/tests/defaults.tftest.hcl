# The safe defaults: failure handling of the mapping, the permissions it
# generates, and what the module exposes of the function (built by
# module.function: its tracing, logging, encryption and own-resource
# permissions are asserted in modules/lambda-function/tests). The provider is mocked (apply gives every computed value a
# fake one); policy documents are asserted on the arguments the module passes
# to them, since the mocked data source renders nothing.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name    = "orders-processor"
  handler = "stream_processor.app.lambda_handler"
  layers  = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]
  package = {
    filename = "../../build/stream_processor.zip"
    # Given, so the package need not exist for these tests.
    source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
  }

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
    condition     = aws_lambda_event_source_mapping.this.metrics_config[0].metrics == toset(["EventCount"])
    error_message = "The mapping must publish its EventCount metrics by default (DroppedEventCount is how a discarded record shows)."
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
    condition     = [for s in local.policy_statements : s.sid] == ["ReadKinesisStream", "PublishOnFailure"]
    error_message = "A Kinesis source with an SNS destination and nothing else must get exactly: stream read and sns:Publish (X-Ray is added by module.function, asserted in lambda-function's tests)."
  }

  assert {
    condition = one([for s in local.policy_statements : s if s.sid == "ReadKinesisStream"]) == {
      sid = "ReadKinesisStream"
      actions = tolist([
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
      ])
      resources = tolist(["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"])
    }
    error_message = "Stream read must be the five polling actions on the stream ARN only."
  }

  assert {
    condition = one([for s in local.policy_statements : s if s.sid == "PublishOnFailure"]) == {
      sid       = "PublishOnFailure"
      actions   = tolist(["sns:Publish"])
      resources = tolist(["arn:aws:sns:eu-west-1:111122223333:orders-on-failure"])
    }
    error_message = "An SNS destination must get sns:Publish on the topic only."
  }

  assert {
    condition     = alltrue([for s in local.policy_statements : !contains(s.resources, "*")])
    error_message = "No statement of the consumer may use the \"*\" resource (only module.function's X-Ray statement does)."
  }

  assert {
    condition     = alltrue(flatten([for s in local.policy_statements : [for a in s.actions : !strcontains(a, "*")]]))
    error_message = "No action may be a wildcard."
  }

  # The function's tracing, JSON logging, log group, key, environment,
  # runtime defaults and own-resource permissions are built by
  # module.function and asserted in modules/lambda-function/tests; here, what
  # this module exposes of them.
  assert {
    condition = (
      output.function_name == "orders-processor" &&
      output.function_arn == "arn:aws:lambda:eu-west-1:111122223333:function:orders-processor" &&
      aws_lambda_event_source_mapping.this.function_name == output.function_arn
    )
    error_message = "The mapping must invoke the function module.function creates."
  }

  assert {
    condition     = output.log_group_name == "/aws/lambda/orders-processor"
    error_message = "The function must log to the module's log group /aws/lambda/<name>."
  }

  assert {
    condition     = output.kms_key_arn == "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000"
    error_message = "Without kms_key_arn the module-created key must encrypt the function."
  }

  assert {
    condition     = output.role_name == "orders-processor" && output.role_arn == "arn:aws:iam::111122223333:role/orders-processor"
    error_message = "The role must default to the function's name."
  }

  assert {
    condition     = output.layers == tolist(["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"])
    error_message = "The given layers must be attached to the function."
  }
}
