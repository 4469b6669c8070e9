# The failure paths and their permissions: ESM -> topic -> hydrate -> DLQ,
# hydrate failures -> 2 async retries -> DLQ, undeliverable notifications ->
# subscription redrive -> DLQ, and the optional bucket. The provider is
# mocked (apply gives every computed value a fake one); policy documents are
# asserted on the arguments the module passes to them, since the mocked data
# source renders nothing.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name               = "orders"
  filename           = "../../build/hydrate.zip"
  layers             = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]
  source_code_hash   = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
  source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]
}

run "failure_paths_end_in_the_dlq" {
  command = apply

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 2 &&
      aws_lambda_function_event_invoke_config.this.maximum_event_age_in_seconds == 21600 &&
      aws_lambda_function_event_invoke_config.this.function_name == "orders-hydrate"
    )
    error_message = "A failed hydrate invocation must be retried twice, for at most 6 hours."
  }

  assert {
    condition     = aws_lambda_function_event_invoke_config.this.destination_config[0].on_failure[0].destination == aws_sqs_queue.this.arn
    error_message = "The hydrate function's on-failure destination must be the DLQ."
  }

  assert {
    condition = (
      aws_sqs_queue.this.message_retention_seconds == 1209600 &&
      aws_sqs_queue.this.visibility_timeout_seconds == 300 &&
      aws_sqs_queue.this.kms_master_key_id == module.kms_key[0].key_arn &&
      jsondecode(aws_sqs_queue.this.redrive_allow_policy) == { redrivePermission = "denyAll" }
    )
    error_message = "The DLQ must keep messages 14 days, encrypted with the module key, and be nobody's redrive target."
  }

  assert {
    condition = (
      aws_sns_topic_subscription.hydrate.protocol == "lambda" &&
      aws_sns_topic_subscription.hydrate.topic_arn == aws_sns_topic.this.arn &&
      aws_sns_topic_subscription.hydrate.endpoint == "arn:aws:lambda:eu-west-1:111122223333:function:orders-hydrate" &&
      jsondecode(aws_sns_topic_subscription.hydrate.redrive_policy) == { deadLetterTargetArn = aws_sqs_queue.this.arn }
    )
    error_message = "The hydrate function must be subscribed to the topic, with undeliverable notifications redriven to the DLQ."
  }

  assert {
    condition = (
      aws_lambda_permission.sns.principal == "sns.amazonaws.com" &&
      aws_lambda_permission.sns.source_arn == aws_sns_topic.this.arn &&
      aws_lambda_permission.sns.action == "lambda:InvokeFunction" &&
      aws_lambda_permission.sns.function_name == "orders-hydrate"
    )
    error_message = "Only this topic may invoke the hydrate function."
  }

  assert {
    condition     = aws_sns_topic.this.name == "orders-on-failure" && aws_sns_topic.this.kms_master_key_id == module.kms_key[0].key_arn
    error_message = "The topic must be encrypted with the module key."
  }

  assert {
    condition = (
      [for st in data.aws_iam_policy_document.topic.statement : st.sid] == ["DenySubscribeExceptHydrate", "DenySubscribeByOtherProtocols", "DenyInsecureTransport"] &&
      alltrue([for st in data.aws_iam_policy_document.topic.statement : st.effect == "Deny" && st.principals == toset([{ type = "*", identifiers = toset(["*"]) }])])
    )
    error_message = "Without consumer_role_arns the topic policy must still deny plain HTTP and every subscriber but hydrate, and allow nothing (the account's IAM decides who publishes)."
  }

  assert {
    condition = (
      one(data.aws_iam_policy_document.topic.statement[0].condition) == { test = "StringNotEquals", variable = "sns:Endpoint", values = tolist(["arn:aws:lambda:eu-west-1:111122223333:function:orders-hydrate"]) } &&
      one(data.aws_iam_policy_document.topic.statement[1].condition) == { test = "StringNotEquals", variable = "sns:Protocol", values = tolist(["lambda"]) } &&
      data.aws_iam_policy_document.topic.statement[0].actions == toset(["sns:Subscribe"]) &&
      data.aws_iam_policy_document.topic.statement[1].actions == toset(["sns:Subscribe"])
    )
    error_message = "Only the hydrate function, by the Lambda protocol, may subscribe to the on-failure topic."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.topic.statement[2].actions == toset(["sns:Publish", "sns:Subscribe"]) &&
      one(data.aws_iam_policy_document.topic.statement[2].condition) == { test = "Bool", variable = "aws:SecureTransport", values = tolist(["false"]) } &&
      aws_sns_topic_policy.this.arn == aws_sns_topic.this.arn
    )
    error_message = "The on-failure topic must refuse Publish and Subscribe over plain HTTP."
  }

  assert {
    condition = (
      length(aws_s3_bucket.this) == 0 &&
      length(aws_s3_bucket_policy.this) == 0 &&
      output.bucket_name == null &&
      output.s3_on_failure_destination_arn == null
    )
    error_message = "No bucket may be created unless enable_s3_failure_bucket is true."
  }

  assert {
    condition = local.hydrate_environment == {
      DLQ_URL                      = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders-dlq"
      DLQ_MAC_KEY_ARN              = aws_kms_key.mac.arn
      SOURCE_STREAM_ARNS           = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"
      POWERTOOLS_SERVICE_NAME      = "hydrate"
      POWERTOOLS_METRICS_NAMESPACE = "StreamPipeline/orders"
    }
    error_message = "The hydrate function must get DLQ_URL, its MAC key, the streams it serves and the Powertools names (the namespace per pipeline name), and no PAYLOAD_BUCKET without a bucket."
  }

  assert {
    condition     = output.hydrate_service_name == "hydrate" && output.metrics_namespace == "StreamPipeline/orders"
    error_message = "The outputs the alarms take must be what the hydrate function reports."
  }

  assert {
    condition     = [for s in data.aws_iam_policy_document.hydrate.statement : s.sid] == ["ReadKinesisStreams", "SendToDeadLetterQueue", "SignEnvelopes", "UseOwnKey"]
    error_message = "A Kinesis source without bucket or source keys must get stream read, DLQ send, envelope signing and the module key only."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.hydrate.statement[0].actions == toset(["kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]) &&
      data.aws_iam_policy_document.hydrate.statement[0].resources == toset(["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]) &&
      data.aws_iam_policy_document.hydrate.statement[1].actions == toset(["sqs:SendMessage"]) &&
      data.aws_iam_policy_document.hydrate.statement[1].resources == toset([aws_sqs_queue.this.arn]) &&
      data.aws_iam_policy_document.hydrate.statement[2].actions == toset(["kms:GenerateMac"]) &&
      data.aws_iam_policy_document.hydrate.statement[2].resources == toset([aws_kms_key.mac.arn]) &&
      data.aws_iam_policy_document.hydrate.statement[3].actions == toset(["kms:Decrypt", "kms:GenerateDataKey"]) &&
      data.aws_iam_policy_document.hydrate.statement[3].resources == toset([module.kms_key[0].key_arn]) &&
      one(data.aws_iam_policy_document.hydrate.statement[3].condition) == { test = "StringEquals", variable = "kms:ViaService", values = tolist(["sqs.eu-west-1.amazonaws.com"]) }
    )
    error_message = "The hydrate role may read only the named stream, send only to this DLQ, sign with the MAC key (directly) and use only the module key, through SQS only (no bucket)."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.hydrate.statement :
      !contains(s.resources, "*") && alltrue([for a in s.actions : !strcontains(a, "*")])
    ])
    error_message = "No hydrate statement may use a wildcard action or the \"*\" resource (X-Ray's is added by lambda-function)."
  }

  assert {
    condition = (
      [for s in data.aws_iam_policy_document.consumer.statement : s.sid] == ["PublishOnFailure", "SignDlqEnvelopes", "UseHydratingDlqKey"] &&
      data.aws_iam_policy_document.consumer.statement[0].actions == toset(["sns:Publish"]) &&
      data.aws_iam_policy_document.consumer.statement[0].resources == toset([aws_sns_topic.this.arn]) &&
      data.aws_iam_policy_document.consumer.statement[1].actions == toset(["kms:GenerateMac"]) &&
      data.aws_iam_policy_document.consumer.statement[1].resources == toset([aws_kms_key.mac.arn]) &&
      data.aws_iam_policy_document.consumer.statement[2].resources == toset([module.kms_key[0].key_arn]) &&
      one(data.aws_iam_policy_document.consumer.statement[2].condition) == { test = "StringEquals", variable = "kms:ViaService", values = tolist(["sns.eu-west-1.amazonaws.com", "sqs.eu-west-1.amazonaws.com"]) }
    )
    error_message = "Without a bucket, consumers need sns:Publish on the topic, GenerateMac on the MAC key and the module key, through SNS and SQS only."
  }

  assert {
    condition = (
      [for s in data.aws_iam_policy_document.queue.statement : s.sid] == ["SnsRedriveFromThisTopic", "WritersSend", "DenySendByOthers", "DenyReadByOthers", "DenyInsecureTransport"] &&
      data.aws_iam_policy_document.queue.statement[0].principals == toset([{ type = "Service", identifiers = toset(["sns.amazonaws.com"]) }]) &&
      one(data.aws_iam_policy_document.queue.statement[0].condition).values == tolist([aws_sns_topic.this.arn]) &&
      data.aws_iam_policy_document.queue.statement[1].principals == toset([{ type = "AWS", identifiers = toset(["arn:aws:iam::111122223333:role/orders-hydrate"]) }]) &&
      data.aws_iam_policy_document.queue.statement[0].actions == toset(["sqs:SendMessage"]) &&
      data.aws_iam_policy_document.queue.statement[1].actions == toset(["sqs:SendMessage"])
    )
    error_message = "The queue may receive from SNS (for this topic only) and from the hydrate role, sqs:SendMessage only; without replay roles nobody is allowed to read."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.queue.statement[2].effect == "Deny" &&
      data.aws_iam_policy_document.queue.statement[2].actions == toset(["sqs:SendMessage"]) &&
      data.aws_iam_policy_document.queue.statement[2].principals == toset([{ type = "*", identifiers = toset(["*"]) }]) &&
      data.aws_iam_policy_document.queue.statement[2].condition == toset([
        { test = "ArnNotEquals", variable = "aws:PrincipalArn", values = tolist(["arn:aws:iam::111122223333:role/orders-hydrate"]) },
        { test = "Bool", variable = "aws:PrincipalIsAWSService", values = tolist(["false"]) },
      ])
    )
    error_message = "Every principal of the account but the writers (services excepted) must be denied sqs:SendMessage."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.queue.statement[3].effect == "Deny" &&
      data.aws_iam_policy_document.queue.statement[3].actions == toset(["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:PurgeQueue", "sqs:ReceiveMessage"]) &&
      data.aws_iam_policy_document.queue.statement[3].condition == toset([
        { test = "ArnNotEquals", variable = "aws:PrincipalArn", values = tolist(["arn:aws:iam::111122223333:root"]) },
      ])
    )
    error_message = "Without replay roles only the account root (break-glass) may read or delete DLQ messages."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.queue.statement[4].effect == "Deny" &&
      data.aws_iam_policy_document.queue.statement[4].actions == toset(["sqs:*"]) &&
      data.aws_iam_policy_document.queue.statement[4].condition == toset([
        { test = "Bool", variable = "aws:SecureTransport", values = tolist(["false"]) },
      ])
    )
    error_message = "The queue must deny every request not made over TLS."
  }

  assert {
    condition = (
      aws_kms_key.mac.key_usage == "GENERATE_VERIFY_MAC" &&
      aws_kms_key.mac.customer_master_key_spec == "HMAC_256" &&
      output.mac_key_arn == aws_kms_key.mac.arn &&
      [for s in data.aws_iam_policy_document.mac.statement : s.sid] == ["AccountIamDelegation", "DenyGenerateMacByOthers"] &&
      data.aws_iam_policy_document.mac.statement[1].effect == "Deny" &&
      data.aws_iam_policy_document.mac.statement[1].actions == toset(["kms:GenerateMac"]) &&
      data.aws_iam_policy_document.mac.statement[1].condition == toset([
        { test = "ArnNotEquals", variable = "aws:PrincipalArn", values = tolist(["arn:aws:iam::111122223333:role/orders-hydrate"]) },
      ])
    )
    error_message = "The envelopes' MAC key must be an HMAC_256 key that nobody but the writer roles may GenerateMac with."
  }

  assert {
    condition     = output.source_stream_arns == tolist(["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"])
    error_message = "The served streams must be output for the replay CLI."
  }

  # The account delegation, rotation, the {partition}/{account_id}
  # substitution and the CloudWatch Logs statement of a log group are
  # kms-key's, asserted in its own tests.
  assert {
    condition = (
      [for st in local.kms_statements : st.sid] == ["SnsRedriveFromThisTopic"] &&
      local.kms_statements[0].principals == ["sns.amazonaws.com"] &&
      local.kms_statements[0].conditions == [{ test = "ArnEquals", variable = "aws:SourceArn", values = ["arn:{partition}:sns:eu-west-1:{account_id}:orders-on-failure"] }] &&
      local.kms_log_groups == { CloudWatchLogsForHydrateLogGroup = "/aws/lambda/orders-hydrate" }
    )
    error_message = "The key may be used by SNS for this topic and by CloudWatch Logs for the hydrate log group only (beyond the account's IAM)."
  }

  assert {
    condition     = length(module.kms_key) == 1 && output.kms_key_arn == "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000"
    error_message = "Without kms_key_arn the module must create its key."
  }

  assert {
    condition = (
      output.on_failure_destination_arn == aws_sns_topic.this.arn &&
      output.topic_name == "orders-on-failure" &&
      output.dlq_arn == aws_sqs_queue.this.arn &&
      output.dlq_url == aws_sqs_queue.this.url &&
      output.dlq_name == "orders-dlq" &&
      output.hydrate_function_name == "orders-hydrate" &&
      output.hydrate_function_arn == "arn:aws:lambda:eu-west-1:111122223333:function:orders-hydrate" &&
      output.hydrate_role_arn == "arn:aws:iam::111122223333:role/orders-hydrate"
    )
    error_message = "The outputs must name the topic, the DLQ and the hydrate function."
  }
}

run "s3_mode_and_consumer_roles" {
  command = apply

  variables {
    enable_s3_failure_bucket = true
    source_stream_arns = [
      "arn:aws:kinesis:eu-west-1:111122223333:stream/orders",
      "arn:aws:dynamodb:eu-west-1:111122223333:table/profiles/stream/2025-01-31T00:00:00.000",
    ]
    source_kms_key_arns = ["arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"]
    consumer_role_arns  = ["arn:aws:iam::111122223333:role/orders-processor"]
    replay_role_arns    = ["arn:aws:iam::111122223333:role/dlq-replay"]
    # A consumer whose event source mapping writes its failed batches to the bucket.
    s3_on_failure_writer_role_arns = ["arn:aws:iam::111122223333:role/clicks-processor"]
  }

  assert {
    condition = (
      length(aws_s3_bucket.this) == 1 &&
      aws_s3_bucket.this[0].bucket_prefix == "orders-failures-" &&
      !aws_s3_bucket.this[0].force_destroy
    )
    error_message = "S3 mode must create one bucket named <name>-failures-<suffix>."
  }

  assert {
    condition = (
      aws_s3_bucket_versioning.this[0].versioning_configuration[0].status == "Enabled" &&
      aws_s3_bucket_public_access_block.this[0].block_public_acls &&
      aws_s3_bucket_public_access_block.this[0].block_public_policy &&
      aws_s3_bucket_public_access_block.this[0].ignore_public_acls &&
      aws_s3_bucket_public_access_block.this[0].restrict_public_buckets &&
      aws_s3_bucket_ownership_controls.this[0].rule[0].object_ownership == "BucketOwnerEnforced"
    )
    error_message = "The bucket must be versioned, fully private and owner-enforced."
  }

  assert {
    condition = (
      one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default[0].sse_algorithm == "aws:kms" &&
      one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default[0].kms_master_key_id == module.kms_key[0].key_arn
    )
    error_message = "The bucket must be encrypted with the module key."
  }

  assert {
    condition = (
      aws_s3_bucket_lifecycle_configuration.this[0].rule[0].expiration[0].days == 30 &&
      aws_s3_bucket_lifecycle_configuration.this[0].rule[0].noncurrent_version_expiration[0].noncurrent_days == 30
    )
    error_message = "Objects and their noncurrent versions must expire after s3_expiration_days (30 by default)."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.bucket[0].statement[0].effect == "Deny" &&
      one(data.aws_iam_policy_document.bucket[0].statement[0].condition).variable == "aws:SecureTransport" &&
      one(data.aws_iam_policy_document.bucket[0].statement[0].condition).values == tolist(["false"])
    )
    error_message = "The bucket policy must deny every request not made over TLS."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.bucket[0].statement[1].sid == "DenyOnFailureObjectWritesByOthers" &&
      data.aws_iam_policy_document.bucket[0].statement[1].effect == "Deny" &&
      data.aws_iam_policy_document.bucket[0].statement[1].actions == toset(["s3:PutObject"]) &&
      data.aws_iam_policy_document.bucket[0].statement[1].resources == toset(["arn:aws:s3:::orders-failures-20250131000000000000000001/aws/lambda/*"]) &&
      data.aws_iam_policy_document.bucket[0].statement[1].condition == toset([
        { test = "ArnNotEquals", variable = "aws:PrincipalArn", values = tolist(["arn:aws:iam::111122223333:role/clicks-processor"]) },
      ])
    )
    error_message = "Only the named S3 on-failure writer roles may put objects under aws/lambda/ (what the replay replays)."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.queue.statement[2].sid == "ReplayReads" &&
      data.aws_iam_policy_document.queue.statement[2].principals == toset([{ type = "AWS", identifiers = toset(["arn:aws:iam::111122223333:role/dlq-replay"]) }]) &&
      data.aws_iam_policy_document.queue.statement[1].principals == toset([{ type = "AWS", identifiers = toset(["arn:aws:iam::111122223333:role/orders-hydrate", "arn:aws:iam::111122223333:role/orders-processor"]) }]) &&
      data.aws_iam_policy_document.queue.statement[4].condition == toset([
        { test = "ArnNotEquals", variable = "aws:PrincipalArn", values = tolist(["arn:aws:iam::111122223333:role/dlq-replay", "arn:aws:iam::111122223333:root"]) },
      ]) &&
      [for s in data.aws_iam_policy_document.mac.statement : s.sid] == ["AccountIamDelegation", "DenyGenerateMacByOthers", "ReplayVerifies"] &&
      data.aws_iam_policy_document.mac.statement[2].actions == toset(["kms:DescribeKey", "kms:VerifyMac"])
    )
    error_message = "The consumers must be writers and signers, and the replay role the DLQ's reader and the MAC key's verifier."
  }

  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "Without access_logging no access logging may be configured."
  }

  assert {
    condition     = local.hydrate_environment["PAYLOAD_BUCKET"] == "orders-failures-20250131000000000000000001"
    error_message = "The hydrate function must get the bucket as PAYLOAD_BUCKET (its name, not its ARN)."
  }

  assert {
    condition = [for s in data.aws_iam_policy_document.hydrate.statement : s.sid] == [
      "ReadKinesisStreams", "ReadDynamoDBStreams", "SendToDeadLetterQueue", "PutPayloadObjects",
      "DecryptSourceStreams", "SignEnvelopes", "UseOwnKey",
    ]
    error_message = "Both stream types, the bucket and the source keys must each add exactly one statement."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.hydrate.statement[0].resources == toset(["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]) &&
      data.aws_iam_policy_document.hydrate.statement[1].actions == toset(["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]) &&
      data.aws_iam_policy_document.hydrate.statement[1].resources == toset(["arn:aws:dynamodb:eu-west-1:111122223333:table/profiles/stream/2025-01-31T00:00:00.000"]) &&
      data.aws_iam_policy_document.hydrate.statement[3].actions == toset(["s3:PutObject"]) &&
      data.aws_iam_policy_document.hydrate.statement[3].resources == toset(["arn:aws:s3:::orders-failures-20250131000000000000000001/*"]) &&
      data.aws_iam_policy_document.hydrate.statement[4].actions == toset(["kms:Decrypt"]) &&
      data.aws_iam_policy_document.hydrate.statement[4].resources == toset(["arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"]) &&
      one(data.aws_iam_policy_document.hydrate.statement[4].condition) == { test = "StringEquals", variable = "kms:ViaService", values = tolist(["kinesis.eu-west-1.amazonaws.com", "dynamodb.eu-west-1.amazonaws.com"]) } &&
      one(data.aws_iam_policy_document.hydrate.statement[6].condition) == { test = "StringEquals", variable = "kms:ViaService", values = tolist(["sqs.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com"]) }
    )
    error_message = "Each stream type must get its own read actions on its ARNs; the bucket PutObject only; source keys Decrypt only, through Kinesis and DynamoDB; the module key through SQS and S3."
  }

  assert {
    condition = (
      [for s in data.aws_iam_policy_document.consumer.statement : s.sid] == ["PublishOnFailure", "SignDlqEnvelopes", "UseHydratingDlqKey"] &&
      one(data.aws_iam_policy_document.consumer.statement[2].condition) == { test = "StringEquals", variable = "kms:ViaService", values = tolist(["sns.eu-west-1.amazonaws.com", "sqs.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com"]) }
    )
    error_message = "With a bucket, consumers must get no object or listing permission on it (a consumer publishing to the topic writes none; an S3 destination's come from stream-consumer), and the key through S3 too."
  }

  assert {
    condition = (
      [for st in data.aws_iam_policy_document.topic.statement : st.sid] == ["ConsumersPublish", "DenyPublishByOthers", "DenySubscribeExceptHydrate", "DenySubscribeByOtherProtocols", "DenyInsecureTransport"] &&
      data.aws_iam_policy_document.topic.statement[0].effect == "Allow" &&
      data.aws_iam_policy_document.topic.statement[0].principals == toset([{ type = "AWS", identifiers = toset(["arn:aws:iam::111122223333:role/orders-processor"]) }]) &&
      data.aws_iam_policy_document.topic.statement[1].effect == "Deny" &&
      one(data.aws_iam_policy_document.topic.statement[1].condition).test == "ArnNotEquals" &&
      one(data.aws_iam_policy_document.topic.statement[1].condition).variable == "aws:PrincipalArn" &&
      one(data.aws_iam_policy_document.topic.statement[1].condition).values == tolist(["arn:aws:iam::111122223333:role/orders-processor"]) &&
      data.aws_iam_policy_document.topic.statement[0].actions == toset(["sns:Publish"]) &&
      data.aws_iam_policy_document.topic.statement[1].actions == toset(["sns:Publish"])
    )
    error_message = "With consumer_role_arns only those roles may publish to the topic."
  }

  assert {
    condition = (
      output.bucket_name == "orders-failures-20250131000000000000000001" &&
      output.s3_on_failure_destination_arn == "arn:aws:s3:::orders-failures-20250131000000000000000001"
    )
    error_message = "S3 mode must output the bucket's name and ARN."
  }
}

run "caller_key_named_bucket_and_access_logs" {
  command = plan

  variables {
    kms_key_arn              = "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    enable_s3_failure_bucket = true
    s3_bucket_name           = "orders-failures-eu-west-1"
    access_logging           = { enabled = true, target_bucket = "org-s3-access-logs" }
  }

  assert {
    condition     = length(module.kms_key) == 0
    error_message = "No key may be created when kms_key_arn is given."
  }

  assert {
    condition = (
      aws_sns_topic.this.kms_master_key_id == var.kms_key_arn &&
      aws_sqs_queue.this.kms_master_key_id == var.kms_key_arn &&
      one(aws_s3_bucket_server_side_encryption_configuration.this[0].rule).apply_server_side_encryption_by_default[0].kms_master_key_id == var.kms_key_arn &&
      output.kms_key_arn == var.kms_key_arn
    )
    error_message = "The caller's key must encrypt the topic, the queue and the bucket."
  }

  assert {
    condition     = aws_s3_bucket.this[0].bucket == "orders-failures-eu-west-1"
    error_message = "s3_bucket_name must name the bucket."
  }

  assert {
    condition     = length(aws_s3_bucket_logging.this) == 1 && aws_s3_bucket_logging.this[0].target_bucket == "org-s3-access-logs"
    error_message = "access_logging.target_bucket must enable server access logging to that bucket."
  }

  assert {
    condition     = length(aws_s3_bucket.access_logs) == 0
    error_message = "With the organisation's log bucket the module must create none."
  }
}

run "upper_limits_are_inclusive" {
  command = plan

  variables {
    maximum_retry_attempts         = 2
    maximum_event_age_in_seconds   = 21600
    dlq_visibility_timeout_seconds = 43200
    enable_s3_failure_bucket       = true
    s3_expiration_days             = 3650
    name                           = "a234567890123456789012345678901234567890"
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 2 &&
      aws_lambda_function_event_invoke_config.this.maximum_event_age_in_seconds == 21600 &&
      aws_sqs_queue.this.visibility_timeout_seconds == 43200 &&
      aws_s3_bucket_lifecycle_configuration.this[0].rule[0].expiration[0].days == 3650
    )
    error_message = "2 retries, a 6-hour event age, a 12-hour visibility timeout and a 3650-day expiry must be accepted."
  }

  assert {
    condition     = length(aws_s3_bucket.this[0].bucket_prefix) <= 37 && output.hydrate_function_name == "a234567890123456789012345678901234567890-hydrate"
    error_message = "A 40-character name must fit every resource name (bucket prefix at most 37 characters)."
  }
}

run "lower_limits_are_inclusive" {
  command = plan

  variables {
    maximum_retry_attempts         = 0
    maximum_event_age_in_seconds   = 60
    dlq_visibility_timeout_seconds = 0
    enable_s3_failure_bucket       = true
    s3_expiration_days             = 14
    name                           = "o"
  }

  assert {
    condition = (
      aws_lambda_function_event_invoke_config.this.maximum_retry_attempts == 0 &&
      aws_lambda_function_event_invoke_config.this.maximum_event_age_in_seconds == 60 &&
      aws_sqs_queue.this.visibility_timeout_seconds == 0 &&
      aws_s3_bucket_lifecycle_configuration.this[0].rule[0].expiration[0].days == 14
    )
    error_message = "0 retries, a 60-second event age, no visibility timeout, a 14-day expiry (the DLQ's retention) and a 1-character name must be accepted."
  }
}

run "access_logs_to_a_bucket_of_its_own" {
  command = apply

  variables {
    enable_s3_failure_bucket = true
    access_logging           = { enabled = true, expiration_days = 400 }
  }

  assert {
    condition = (
      length(aws_s3_bucket.access_logs) == 1 &&
      aws_s3_bucket.access_logs[0].bucket_prefix == "orders-access-logs-" &&
      aws_s3_bucket_logging.this[0].bucket == aws_s3_bucket.this[0].id &&
      aws_s3_bucket_logging.this[0].target_bucket == aws_s3_bucket.access_logs[0].id &&
      aws_s3_bucket_logging.this[0].target_prefix == "${aws_s3_bucket.this[0].id}/"
    )
    error_message = "Without a target bucket the module must create the log bucket and log the failure bucket's accesses there, under its name."
  }

  assert {
    condition = (
      aws_s3_bucket_versioning.access_logs[0].versioning_configuration[0].status == "Enabled" &&
      aws_s3_bucket_public_access_block.access_logs[0].restrict_public_buckets &&
      aws_s3_bucket_public_access_block.access_logs[0].block_public_policy &&
      one(aws_s3_bucket_ownership_controls.access_logs[0].rule).object_ownership == "BucketOwnerEnforced" &&
      one(aws_s3_bucket_server_side_encryption_configuration.access_logs[0].rule).apply_server_side_encryption_by_default[0].sse_algorithm == "AES256" &&
      aws_s3_bucket_lifecycle_configuration.access_logs[0].rule[0].expiration[0].days == 400
    )
    error_message = "The log bucket must be versioned, private, owner-enforced, SSE-S3 (what log delivery supports) and expire logs after access_logging.expiration_days."
  }

  assert {
    condition = (
      data.aws_iam_policy_document.access_logs[0].statement[0].principals == toset([{ type = "Service", identifiers = toset(["logging.s3.amazonaws.com"]) }]) &&
      data.aws_iam_policy_document.access_logs[0].statement[0].actions == toset(["s3:PutObject"]) &&
      data.aws_iam_policy_document.access_logs[0].statement[0].resources == toset(["${aws_s3_bucket.access_logs[0].arn}/${aws_s3_bucket.this[0].id}/*"]) &&
      data.aws_iam_policy_document.access_logs[0].statement[0].condition == toset([
        { test = "ArnEquals", variable = "aws:SourceArn", values = tolist([aws_s3_bucket.this[0].arn]) },
        { test = "StringEquals", variable = "aws:SourceAccount", values = tolist(["111122223333"]) },
      ]) &&
      data.aws_iam_policy_document.access_logs[0].statement[1].effect == "Deny" &&
      one(data.aws_iam_policy_document.access_logs[0].statement[1].condition).variable == "aws:SecureTransport"
    )
    error_message = "Only the S3 log delivery of this account's failure bucket may write to the log bucket, under its prefix, and never over plain HTTP."
  }
}

run "no_access_logs_without_the_failure_bucket" {
  command = plan

  variables {
    access_logging = { enabled = true }
  }

  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0 && length(aws_s3_bucket.access_logs) == 0
    error_message = "Without the failure bucket there is nothing to log."
  }
}
