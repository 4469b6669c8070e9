# IAM statements generated for each source and on-failure destination type,
# layers, keys, and the accepted limits. The mocked aws_iam_policy_document
# renders nothing, so the statements the module passes to it
# (local.policy_statements) are asserted instead.

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

run "efo_source_with_sqs_destination" {
  command = plan

  variables {
    event_source_arn           = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders/consumer/orders-processor:1700000000"
    on_failure_destination_arn = "arn:aws:sqs:eu-west-1:111122223333:orders-on-failure"
    dlq_arn                    = "arn:aws:sqs:eu-west-1:111122223333:orders-dlq"
    dynamodb_table_arns        = ["arn:aws:dynamodb:eu-west-1:111122223333:table/orders-results"]
    source_kms_key_arn         = "arn:aws:kms:eu-west-1:111122223333:key/33333333-3333-3333-3333-333333333333"
    kms_key_arns = [
      "arn:aws:kms:eu-west-1:111122223333:key/22222222-2222-2222-2222-222222222222",
      "arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111",
    ]
  }

  assert {
    condition     = output.event_source_type == "kinesis-efo"
    error_message = "A consumer ARN must be detected as an enhanced fan-out source."
  }

  assert {
    condition = [for s in local.policy_statements : s.sid] == [
      "ReadKinesisStream", "SubscribeToConsumer", "WriteTables", "SendToDeadLetterQueue",
      "SendOnFailure", "DecryptSource", "UseKeys",
    ]
    error_message = "EFO source, table, DLQ, SQS destination, source key and keys must each get exactly one statement."
  }

  assert {
    condition     = one([for s in local.policy_statements : s.resources if s.sid == "ReadKinesisStream"]) == tolist(["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"])
    error_message = "An EFO mapping must read shard metadata from the consumer's stream, not from the consumer ARN."
  }

  assert {
    condition = one([for s in local.policy_statements : s if s.sid == "SubscribeToConsumer"]) == {
      sid       = "SubscribeToConsumer"
      actions   = tolist(["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"])
      resources = tolist(["arn:aws:kinesis:eu-west-1:111122223333:stream/orders/consumer/orders-processor:1700000000"])
    }
    error_message = "SubscribeToShard and DescribeStreamConsumer must be granted on the consumer ARN only."
  }

  assert {
    condition = one([for s in local.policy_statements : s if s.sid == "WriteTables"]) == {
      sid       = "WriteTables"
      actions   = tolist(["dynamodb:BatchWriteItem", "dynamodb:PutItem"])
      resources = tolist(["arn:aws:dynamodb:eu-west-1:111122223333:table/orders-results"])
    }
    error_message = "Tables must get BatchWriteItem and PutItem only."
  }

  assert {
    condition = one([for s in local.policy_statements : s if s.sid == "SendOnFailure"]) == {
      sid       = "SendOnFailure"
      actions   = tolist(["sqs:SendMessage"])
      resources = tolist(["arn:aws:sqs:eu-west-1:111122223333:orders-on-failure"])
    }
    error_message = "An SQS destination must get sqs:SendMessage on the queue only."
  }

  assert {
    condition     = one([for s in local.policy_statements : s.resources if s.sid == "SendToDeadLetterQueue"]) == tolist(["arn:aws:sqs:eu-west-1:111122223333:orders-dlq"])
    error_message = "The DLQ permission must name the DLQ only."
  }

  assert {
    condition = (
      one([for s in local.policy_statements : s if s.sid == "DecryptSource"]) == {
        sid       = "DecryptSource"
        actions   = tolist(["kms:Decrypt"])
        resources = tolist(["arn:aws:kms:eu-west-1:111122223333:key/33333333-3333-3333-3333-333333333333"])
      } &&
      local.policy_conditions["DecryptSource"] == [{ test = "StringEquals", variable = "kms:ViaService", values = ["kinesis.eu-west-1.amazonaws.com"] }]
    )
    error_message = "The source key must be granted kms:Decrypt only (no GenerateDataKey: reading makes no data key), through Kinesis only."
  }

  assert {
    condition = (
      one([for s in local.policy_statements : s if s.sid == "UseKeys"]) == {
        sid     = "UseKeys"
        actions = tolist(["kms:Decrypt", "kms:GenerateDataKey"])
        resources = tolist([
          "arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111",
          "arn:aws:kms:eu-west-1:111122223333:key/22222222-2222-2222-2222-222222222222",
        ])
      } &&
      local.policy_conditions["UseKeys"] == [{ test = "StringEquals", variable = "kms:ViaService", values = ["dynamodb.eu-west-1.amazonaws.com", "sqs.eu-west-1.amazonaws.com"] }]
    )
    error_message = "The write keys must get Decrypt and GenerateDataKey on exactly the given keys, through the services the function writes with only (DynamoDB tables, SQS DLQ and destination), never Kinesis."
  }

  assert {
    condition     = !anytrue([for s in local.policy_statements : contains(s.actions, "kms:GenerateDataKey") && contains(s.resources, "arn:aws:kms:eu-west-1:111122223333:key/33333333-3333-3333-3333-333333333333")])
    error_message = "No statement may grant kms:GenerateDataKey on the source key."
  }
}

run "dynamodb_source_with_s3_destination" {
  command = plan

  variables {
    event_source_arn           = "arn:aws:dynamodb:eu-west-1:111122223333:table/profiles/stream/2025-01-31T00:00:00.000"
    on_failure_destination_arn = "arn:aws:s3:::orders-failed-batches"
    source_kms_key_arn         = "arn:aws:kms:eu-west-1:111122223333:key/33333333-3333-3333-3333-333333333333"
    kms_key_arns               = ["arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111"]
  }

  assert {
    condition = (
      local.policy_conditions["DecryptSource"] == [{ test = "StringEquals", variable = "kms:ViaService", values = ["dynamodb.eu-west-1.amazonaws.com"] }] &&
      local.policy_conditions["UseKeys"] == [{ test = "StringEquals", variable = "kms:ViaService", values = ["s3.eu-west-1.amazonaws.com"] }]
    )
    error_message = "A DynamoDB stream's key must be decrypted through DynamoDB, and an S3 destination's key used through S3 only."
  }

  assert {
    condition     = output.event_source_type == "dynamodb"
    error_message = "A DynamoDB stream ARN must be detected as a DynamoDB source."
  }

  assert {
    condition = [for s in local.policy_statements : s.sid] == [
      "ReadDynamoDBStream", "PutOnFailureObjects", "ListOnFailureBucket", "DecryptSource", "UseKeys",
    ]
    error_message = "A DynamoDB source with an S3 destination must get stream read, s3:PutObject, s3:ListBucket and its keys only (X-Ray comes from module.function)."
  }

  assert {
    condition = one([for s in local.policy_statements : s if s.sid == "ReadDynamoDBStream"]) == {
      sid       = "ReadDynamoDBStream"
      actions   = tolist(["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"])
      resources = tolist(["arn:aws:dynamodb:eu-west-1:111122223333:table/profiles/stream/2025-01-31T00:00:00.000"])
    }
    error_message = "DynamoDB stream read must be three actions on the stream ARN (no ListStreams, no table access)."
  }

  assert {
    condition = (
      one([for s in local.policy_statements : s.resources if s.sid == "PutOnFailureObjects"]) == tolist(["arn:aws:s3:::orders-failed-batches/aws/lambda/*"]) &&
      one([for s in local.policy_statements : s.resources if s.sid == "ListOnFailureBucket"]) == tolist(["arn:aws:s3:::orders-failed-batches"])
    )
    error_message = "An S3 destination must get s3:PutObject under aws/lambda/ only (where Lambda writes its on-failure objects) and s3:ListBucket on the bucket."
  }
}

run "explicit_opt_out_has_no_destination" {
  command = plan

  variables {
    on_failure_destination_arn      = null
    allow_no_on_failure_destination = true
  }

  assert {
    condition     = length(aws_lambda_event_source_mapping.this.destination_config) == 0
    error_message = "Without a destination the mapping must have no destination_config."
  }

  assert {
    condition     = [for s in local.policy_statements : s.sid] == ["ReadKinesisStream"]
    error_message = "Without a destination no destination permission may be granted."
  }
}

run "caller_key_no_layers_x86_python313" {
  command = plan

  variables {
    kms_key_arn   = "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    layers        = []
    runtime       = "python3.13"
    architectures = ["x86_64"]
  }

  # That no key is created and that the caller's key encrypts both the
  # environment and the log group is asserted in lambda-function's tests.
  assert {
    condition     = output.kms_key_arn == "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    error_message = "The caller's key must be the function's key."
  }

  assert {
    condition     = length(output.layers) == 0
    error_message = "layers = [] must attach no layer (a package that bundles its dependencies)."
  }
}

run "additional_policy_is_merged" {
  command = plan

  variables {
    additional_policy_json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"SendEmail\",\"Effect\":\"Allow\",\"Action\":\"ses:SendEmail\",\"Resource\":\"arn:aws:ses:eu-west-1:111122223333:identity/example.com\"}]}"
  }

  assert {
    condition     = data.aws_iam_policy_document.this.source_policy_documents == tolist([var.additional_policy_json])
    error_message = "additional_policy_json must be merged into the role's policy."
  }
}

run "limits_are_inclusive" {
  command = plan

  variables {
    batch_size                         = 10000
    maximum_batching_window_in_seconds = 300
    parallelization_factor             = 10
    maximum_retry_attempts             = -1
    maximum_record_age_in_seconds      = 604800
    tumbling_window_in_seconds         = 900
    window_aware                       = true
    memory_size                        = 10240
    timeout                            = 900
    reserved_concurrent_executions     = 1
    log_retention_in_days              = 3653
    kms_key_deletion_window_in_days    = 7
    starting_position                  = "AT_TIMESTAMP"
    starting_position_timestamp        = "2025-01-31T00:00:00Z"
    filter_criteria                    = [for i in range(10) : jsonencode({ data = { shard = [i] } })]
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.this.batch_size == 10000 &&
      aws_lambda_event_source_mapping.this.maximum_retry_attempts == -1 &&
      aws_lambda_event_source_mapping.this.maximum_record_age_in_seconds == 604800 &&
      length(aws_lambda_event_source_mapping.this.filter_criteria[0].filter) == 10
    )
    error_message = "The upper AWS limits, and unbounded retries with a bounded age, must be accepted."
  }
}

run "lower_limits_are_inclusive" {
  command = plan

  variables {
    batch_size                    = 1
    maximum_retry_attempts        = 0
    maximum_record_age_in_seconds = -1
    memory_size                   = 128
    timeout                       = 1
    log_retention_in_days         = 0
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.this.batch_size == 1 &&
      aws_lambda_event_source_mapping.this.maximum_retry_attempts == 0 &&
      aws_lambda_event_source_mapping.this.maximum_record_age_in_seconds == -1
    )
    error_message = "The lower AWS limits, and an unbounded age with bounded retries, must be accepted."
  }
}

run "write_keys_need_a_service_that_writes" {
  command = plan

  variables {
    on_failure_destination_arn      = null
    allow_no_on_failure_destination = true
    # The stream's key passed as a write key, by a consumer that writes nowhere.
    kms_key_arns = ["arn:aws:kms:eu-west-1:111122223333:key/33333333-3333-3333-3333-333333333333"]
  }

  expect_failures = [aws_lambda_event_source_mapping.this]
}
