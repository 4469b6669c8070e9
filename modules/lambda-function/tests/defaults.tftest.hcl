# The function every module of the library deploys: tracing, JSON logs, the
# module-owned log group, the KMS key of environment and logs, the layers,
# and the role's permissions. The provider is mocked (apply gives every
# computed value a fake one); policy documents are asserted on the arguments
# the module passes to them, since the mocked data source renders nothing.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name     = "orders-processor"
  handler  = "stream_processor.app.lambda_handler"
  filename = "../../build/stream_processor.zip"
  layers   = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]
  # Given, so the package need not exist for these tests.
  source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
}

run "defaults_are_safe" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "X-Ray tracing must be active."
  }

  assert {
    condition = (
      aws_lambda_function.this.logging_config[0].log_format == "JSON" &&
      aws_lambda_function.this.logging_config[0].log_group == "/aws/lambda/orders-processor" &&
      aws_lambda_function.this.logging_config[0].application_log_level == "INFO" &&
      aws_lambda_function.this.logging_config[0].system_log_level == "INFO"
    )
    error_message = "Logs must be JSON, in the module's log group, at INFO."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 365 && aws_cloudwatch_log_group.this.kms_key_id == module.kms_key[0].key_arn
    error_message = "The log group must keep a year of logs, encrypted with the module's key."
  }

  assert {
    condition     = length(module.kms_key) == 1 && aws_lambda_function.this.kms_key_arn == module.kms_key[0].key_arn
    error_message = "Environment variables must be encrypted with the module-created key."
  }

  assert {
    condition = (
      aws_lambda_function.this.environment[0].variables == tomap({
        POWERTOOLS_SERVICE_NAME      = "orders-processor"
        POWERTOOLS_METRICS_NAMESPACE = "StreamPipeline/orders-processor"
      }) &&
      output.service_name == "orders-processor" &&
      output.metrics_namespace == "StreamPipeline/orders-processor"
    )
    error_message = "POWERTOOLS_SERVICE_NAME must default to the function name and the metrics namespace to its own; the outputs must say what the function reports."
  }

  assert {
    condition = (
      aws_lambda_function.this.runtime == "python3.12" &&
      aws_lambda_function.this.architectures == tolist(["arm64"]) &&
      aws_lambda_function.this.layers == tolist(["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]) &&
      tolist(output.layers) == aws_lambda_function.this.layers
    )
    error_message = "Defaults must be python3.12 on arm64 with the given layers."
  }

  assert {
    condition = (
      aws_lambda_function.this.memory_size == 256 &&
      aws_lambda_function.this.timeout == 60 &&
      aws_lambda_function.this.reserved_concurrent_executions == -1 &&
      aws_lambda_function.this.source_code_hash == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    )
    error_message = "Defaults must be 256 MB, 60 s, unreserved concurrency, and the given package hash."
  }

  assert {
    condition = (
      aws_iam_role.this.name == "orders-processor" &&
      aws_iam_role.this.description == "Execution role of Lambda function orders-processor" &&
      aws_iam_role_policy.this.name == "function" &&
      aws_iam_role_policy.own_resources.name == "own-resources"
    )
    error_message = "The role and its inline policies must be named after the function by default."
  }

  assert {
    condition     = one(data.aws_iam_policy_document.assume_role.statement[0].principals).identifiers == toset(["lambda.amazonaws.com"])
    error_message = "Only Lambda may assume the role."
  }

  assert {
    condition = (
      one(data.aws_iam_policy_document.assume_role.statement[0].condition).test == "StringEquals" &&
      one(data.aws_iam_policy_document.assume_role.statement[0].condition).variable == "aws:SourceAccount" &&
      one(data.aws_iam_policy_document.assume_role.statement[0].condition).values == tolist(["111122223333"])
    )
    error_message = "Lambda may assume the role only for a function of the log group's account (aws:SourceAccount)."
  }

  assert {
    condition = (
      length(data.aws_iam_policy_document.this.source_policy_documents) == 0 &&
      length(data.aws_iam_policy_document.this.statement) == 1 &&
      data.aws_iam_policy_document.this.statement[0].sid == "WriteTraces" &&
      data.aws_iam_policy_document.this.statement[0].actions == toset(["xray:PutTelemetryRecords", "xray:PutTraceSegments"]) &&
      data.aws_iam_policy_document.this.statement[0].resources == toset(["*"])
    )
    error_message = "Without policy_json the role gets X-Ray only (the only \"*\" resource)."
  }

  # The key's own settings (rotation, deletion window, account delegation) and
  # the CloudWatch Logs statement it renders for a log group are kms-key's,
  # asserted in its own tests; here, the log group this module names.
  assert {
    condition     = local.kms_log_groups == { CloudWatchLogsForThisLogGroup = "/aws/lambda/orders-processor" }
    error_message = "The module key must let CloudWatch Logs use it for this function's log group only."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.own_resources.statement[0].actions == toset(["logs:CreateLogStream", "logs:PutLogEvents"]) &&
      data.aws_iam_policy_document.own_resources.statement[0].resources == toset(["arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/orders-processor:*"]) &&
      data.aws_iam_policy_document.own_resources.statement[1].actions == toset(["kms:Decrypt"]) &&
      data.aws_iam_policy_document.own_resources.statement[1].resources == toset([module.kms_key[0].key_arn]) &&
      one(data.aws_iam_policy_document.own_resources.statement[1].condition).variable == "kms:ViaService" &&
      one(data.aws_iam_policy_document.own_resources.statement[1].condition).values == tolist(["lambda.eu-west-1.amazonaws.com"])
    )
    error_message = "The role may only write to its own log group (no CreateLogGroup) and decrypt with its environment key, through Lambda only."
  }

  assert {
    condition = (
      output.function_name == "orders-processor" &&
      output.function_arn == "arn:aws:lambda:eu-west-1:111122223333:function:orders-processor" &&
      output.kms_key_arn == module.kms_key[0].key_arn &&
      output.log_group_name == "/aws/lambda/orders-processor" &&
      output.role_name == "orders-processor" &&
      output.role_arn == "arn:aws:iam::111122223333:role/orders-processor"
    )
    error_message = "The outputs must name the function, its key, log group and role."
  }
}

run "caller_policy_key_and_settings" {
  command = plan

  variables {
    policy_json      = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"SendToQueue\",\"Effect\":\"Allow\",\"Action\":\"sqs:SendMessage\",\"Resource\":\"arn:aws:sqs:eu-west-1:111122223333:orders-dlq\"}]}"
    policy_name      = "hydrating-dlq"
    role_name        = "orders-processor-eu-west-1"
    role_description = "Execution role of the hydrate function"
    kms_key_arn      = "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    layers           = []
    runtime          = "python3.13"
    architectures    = ["x86_64"]
    environment_variables = {
      POWERTOOLS_SERVICE_NAME = "hydrate"
      DLQ_URL                 = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders-dlq"
    }
  }

  assert {
    condition     = data.aws_iam_policy_document.this.source_policy_documents == tolist([var.policy_json])
    error_message = "policy_json must be merged into the role's inline policy."
  }

  assert {
    condition     = data.aws_iam_policy_document.this.statement[0].sid == "WriteTraces"
    error_message = "X-Ray must be added to the caller's statements."
  }

  assert {
    condition = (
      aws_iam_role_policy.this.name == "hydrating-dlq" &&
      aws_iam_role.this.name == "orders-processor-eu-west-1" &&
      aws_iam_role.this.description == "Execution role of the hydrate function"
    )
    error_message = "policy_name, role_name and role_description must be used as given."
  }

  assert {
    condition     = length(module.kms_key) == 0
    error_message = "No key may be created when kms_key_arn is given."
  }

  assert {
    condition = (
      aws_lambda_function.this.kms_key_arn == "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" &&
      aws_cloudwatch_log_group.this.kms_key_id == "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" &&
      output.kms_key_arn == "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    )
    error_message = "The caller's key must encrypt the environment and the log group."
  }

  assert {
    condition     = data.aws_iam_policy_document.own_resources.statement[1].resources == toset(["arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"])
    error_message = "The role must decrypt its environment with the caller's key."
  }

  assert {
    condition     = length(aws_lambda_function.this.layers) == 0 && length(output.layers) == 0
    error_message = "layers = [] must attach no layer (a package that bundles its dependencies)."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["POWERTOOLS_SERVICE_NAME"] == "hydrate" && output.service_name == "hydrate"
    error_message = "An explicit POWERTOOLS_SERVICE_NAME must win over the default, in the output too."
  }
}

run "layers_keep_their_order" {
  command = plan

  variables {
    layers = ["arn:aws:lambda:eu-west-1:111122223333:layer:shared:3", "arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]
  }

  assert {
    condition = aws_lambda_function.this.layers == tolist([
      "arn:aws:lambda:eu-west-1:111122223333:layer:shared:3",
      "arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3",
    ])
    error_message = "Layers must be attached in the order given (a later layer's files win)."
  }
}

run "limits_are_inclusive" {
  command = plan

  variables {
    memory_size                     = 10240
    timeout                         = 900
    reserved_concurrent_executions  = 1
    log_retention_in_days           = 3653
    kms_key_deletion_window_in_days = 7
    description                     = format("%0256d", 0)
  }

  assert {
    condition = (
      aws_lambda_function.this.memory_size == 10240 &&
      aws_lambda_function.this.timeout == 900 &&
      aws_lambda_function.this.reserved_concurrent_executions == 1 &&
      aws_cloudwatch_log_group.this.retention_in_days == 3653
    )
    error_message = "The upper AWS limits must be accepted."
  }
}

run "lower_limits_are_inclusive" {
  command = plan

  variables {
    memory_size           = 128
    timeout               = 1
    log_retention_in_days = 0
  }

  assert {
    condition     = aws_lambda_function.this.memory_size == 128 && aws_lambda_function.this.timeout == 1 && aws_cloudwatch_log_group.this.retention_in_days == 0
    error_message = "The lower AWS limits must be accepted."
  }
}
