# The composition's own rules; each child module tests its inputs itself.

mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = {
      partition  = "aws"
      dns_suffix = "amazonaws.com"
    }
  }

  mock_data "aws_region" {
    defaults = {
      id = "eu-west-1"
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  # Known at plan: the alarms' check block alarm_subscriptions_confirmed reads it.
  mock_resource "aws_sns_topic_subscription" {
    override_during = plan
    defaults = {
      pending_confirmation = false
    }
  }
}

# The sensitive fields' key, named by policies of several runs.
override_resource {
  target          = module.field_key[0].aws_kms_key.this
  override_during = plan
  values = {
    arn = "arn:aws:kms:eu-west-1:111122223333:key/5555eeee-55ee-55ee-55ee-5555eeee5555"
  }
}

# The envelopes' MAC key gets an ARN of its own (the mock gives every key the same one).
override_resource {
  target          = module.dlq.aws_kms_key.mac
  override_during = plan
  values          = { arn = "arn:aws:kms:eu-west-1:111122223333:key/0000aaaa-0000-0000-0000-000000000000" }
}

variables {
  name = "orders"
  consumers = {
    processor = {
      package             = { filename = "../../build/stream_processor.zip" }
      handler             = "stream_processor.app.lambda_handler"
      write_results_table = true
      environment_variables = {
        POWERTOOLS_SERVICE_NAME = "stream_processor"
      }
    }
  }
  hydrate_package            = "../../build/hydrate.zip"
  dependencies_layer_package = "../../build/dependencies-python3.12-arm64.zip"
}

run "results_reader_policy_and_key_scheme" {
  command = plan

  # The ARNs the policy names, fixed at plan time.
  override_resource {
    target          = aws_dynamodb_table.this
    override_during = plan
    values = {
      arn = "arn:aws:dynamodb:eu-west-1:111122223333:table/orders-results"
    }
  }

  override_resource {
    target          = module.results_key[0].aws_kms_key.this
    override_during = plan
    values = {
      arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    }
  }

  assert {
    condition = jsonencode(sort(jsondecode(output.results_reader_policy_json).Statement[0].Action)) == jsonencode(
      ["dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Query"]
    ) && jsondecode(output.results_reader_policy_json).Statement[0].Resource == ["arn:aws:dynamodb:eu-west-1:111122223333:table/orders-results"]
    error_message = "Readers get the four read actions on the results table, and nothing else."
  }

  assert {
    condition = jsondecode(output.results_reader_policy_json).Statement[1].Action == ["kms:Decrypt"] && (
      jsondecode(output.results_reader_policy_json).Statement[1].Resource == ["arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
      ) && (
      jsondecode(output.results_reader_policy_json).Statement[1].Condition.StringEquals["kms:ViaService"] == "dynamodb.eu-west-1.amazonaws.com"
    )
    error_message = "Readers decrypt with the table's key only through DynamoDB in the table's Region."
  }

  assert {
    condition     = output.results_table_key_scheme.hash_key == "userId" && output.results_table_key_scheme.range_key == "eventKey"
    error_message = "The key scheme output names the table's own keys."
  }
}

run "results_table_defaults" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.this[0].name == "orders-results" && aws_dynamodb_table.this[0].billing_mode == "PAY_PER_REQUEST"
    error_message = "The results table is <name>-results, on demand."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].hash_key == "userId" && aws_dynamodb_table.this[0].range_key == "eventKey"
    error_message = "The table keys must be the ones stream_processor writes: userId + eventKey."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].point_in_time_recovery[0].enabled && aws_dynamodb_table.this[0].server_side_encryption[0].enabled
    error_message = "The results table must have point-in-time recovery and KMS encryption."
  }

  assert {
    condition     = aws_dynamodb_table.this[0].deletion_protection_enabled
    error_message = "Deletion protection is on unless an environment turns it off."
  }

  assert {
    condition     = output.metrics_namespace == "StreamPipeline/orders"
    error_message = "The functions and the alarms must share the metrics namespace."
  }

  assert {
    condition     = module.consumer["processor"].metrics_namespace == output.metrics_namespace && module.dlq.metrics_namespace == output.metrics_namespace
    error_message = "Every function of the pipeline reports into the pipeline's namespace."
  }

  assert {
    condition     = module.consumer["processor"].service_name == "stream_processor" && module.dlq.hydrate_service_name == "hydrate"
    error_message = "The service names the alarms take are the ones the functions report (their POWERTOOLS_SERVICE_NAME)."
  }
}

run "failure_bucket_is_on_by_default_with_a_claim_check_prefix_per_consumer" {
  command = plan

  # Known at plan time, so that the policy document's statements can be compared.
  override_resource {
    target          = module.stream.aws_kinesis_stream.this
    override_during = plan
    values = {
      arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"
    }
  }

  override_resource {
    target          = module.dlq.aws_s3_bucket.this[0]
    override_during = plan
    values = {
      id  = "orders-failures-20250131"
      arn = "arn:aws:s3:::orders-failures-20250131"
    }
  }

  override_module {
    target          = module.dlq.module.kms_key[0]
    override_during = plan
    outputs = {
      key_arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    }
  }

  assert {
    condition     = module.dlq.bucket_name == "orders-failures-20250131"
    error_message = "The failure bucket is on by default: oversized envelopes keep their bytes in S3, not only in the stream."
  }

  assert {
    condition     = jsonencode(local.claim_check_environment["processor"]) == jsonencode({ PAYLOAD_BUCKET = "orders-failures-20250131", PAYLOAD_KEY_PREFIX = "claim-check/orders-processor/" })
    error_message = "Each consumer gets PAYLOAD_BUCKET and a PAYLOAD_KEY_PREFIX of its own, claim-check/<function name>/."
  }

  assert {
    condition = jsonencode([
      for statement in data.aws_iam_policy_document.consumer["processor"].statement : { actions = sort(statement.actions), resources = sort(statement.resources) }
      if anytrue([for action in statement.actions : startswith(action, "s3:")])
      ]) == jsonencode([
      { actions = ["s3:PutObject"], resources = ["arn:aws:s3:::orders-failures-20250131/claim-check/orders-processor/*"] },
    ])
    error_message = "The only S3 permission of a consumer is s3:PutObject under its own claim-check prefix: no ListBucket, no PutObject on the whole bucket."
  }

  assert {
    condition = jsonencode([
      for statement in data.aws_iam_policy_document.consumer["processor"].statement : sort(statement.actions)
      if contains(statement.resources, "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    ]) == jsonencode([["kms:Decrypt", "kms:GenerateDataKey"]])
    error_message = "A consumer may use the hydrating DLQ's key (topic, DLQ and the bucket's SSE-KMS bucket key): Decrypt and GenerateDataKey, nothing more."
  }

  assert {
    condition = jsonencode([
      for statement in data.aws_iam_policy_document.consumer["processor"].statement : { sid = statement.sid, actions = sort(statement.actions), resources = sort(statement.resources) }
      if contains(statement.actions, "kms:GenerateMac")
      ]) == jsonencode([
      { sid = "SignDlqEnvelopes", actions = ["kms:GenerateMac"], resources = ["arn:aws:kms:eu-west-1:111122223333:key/0000aaaa-0000-0000-0000-000000000000"] },
    ])
    error_message = "A consumer signs its DLQ envelopes with the MAC key: kms:GenerateMac on that key only."
  }
}

run "without_failure_bucket_no_claim_check" {
  command = plan

  variables {
    enable_s3_failure_bucket = false
  }

  assert {
    condition     = length(local.claim_check_environment["processor"]) == 0 && local.failure_bucket_arn == null
    error_message = "Without the failure bucket there is no PAYLOAD_BUCKET nor PAYLOAD_KEY_PREFIX."
  }

  assert {
    condition = length([
      for statement in data.aws_iam_policy_document.consumer["processor"].statement : statement.sid
      if anytrue([for action in statement.actions : startswith(action, "s3:")])
    ]) == 0
    error_message = "Without the failure bucket a consumer has no S3 permission at all."
  }
}

run "name_with_uppercase" {
  command = plan
  variables {
    name = "Orders"
  }
  expect_failures = [var.name]
}

run "name_too_long" {
  command = plan
  variables {
    name = "a23456789012345678901234567890123456789012"
  }
  expect_failures = [var.name]
}

run "deletion_protection_stands_for_stream_dlq_and_topic" {
  command = plan

  assert {
    condition     = length(terraform_data.deletion_protection) == 1 && toset(keys(terraform_data.deletion_protection[0].triggers_replace)) == toset(["dlq", "on_failure_topic", "stream"])
    error_message = "By default a guard with prevent_destroy is replaced with the stream, the DLQ or the on-failure topic, so a plan destroying or replacing one of them fails."
  }
}

run "deletion_protection_off" {
  command = plan

  variables {
    deletion_protection = false
  }

  assert {
    condition     = length(terraform_data.deletion_protection) == 0
    error_message = "deletion_protection = false plans no guard."
  }
}

run "sensitive_fields_encrypt_only_for_writers_decrypt_only_for_readers" {
  command = plan

  variables {
    sensitive_fields = ["email", "phone"]
  }

  # Every ARN the policies name, known at plan time.
  override_resource {
    target          = aws_dynamodb_table.this
    override_during = plan
    values = {
      arn  = "arn:aws:dynamodb:eu-west-1:111122223333:table/orders-results"
      name = "orders-results"
    }
  }

  override_resource {
    target          = module.results_key[0].aws_kms_key.this
    override_during = plan
    values = {
      arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    }
  }

  override_resource {
    target          = module.dlq.aws_s3_bucket.this[0]
    override_during = plan
    values = {
      id  = "orders-failures-20250131"
      arn = "arn:aws:s3:::orders-failures-20250131"
    }
  }

  override_module {
    target          = module.dlq.module.kms_key[0]
    override_during = plan
    outputs = {
      key_arn = "arn:aws:kms:eu-west-1:111122223333:key/2222bbbb-22bb-22bb-22bb-2222bbbb2222"
    }
  }

  assert {
    condition = one([for s in jsondecode(output.results_reader_policy_json).Statement : s if s.Sid == "DecryptSensitiveFields"]) == {
      Sid      = "DecryptSensitiveFields"
      Effect   = "Allow"
      Action   = ["kms:Decrypt"]
      Resource = ["arn:aws:kms:eu-west-1:111122223333:key/5555eeee-55ee-55ee-55ee-5555eeee5555"]
      Condition = {
        StringEquals = {
          "kms:EncryptionContext:table" = "orders-results"
          "kms:EncryptionContext:field" = ["email", "phone"]
        }
      }
    }
    error_message = "Readers decrypt with the field key only values encrypted for this table's declared fields."
  }

  assert {
    condition = one([for s in data.aws_iam_policy_document.consumer["processor"].statement : s if s.sid == "EncryptSensitiveFields"]).actions == toset(["kms:GenerateDataKey"]) && (
      one([for s in data.aws_iam_policy_document.consumer["processor"].statement : s if s.sid == "EncryptSensitiveFields"]).resources == toset(["arn:aws:kms:eu-west-1:111122223333:key/5555eeee-55ee-55ee-55ee-5555eeee5555"])
      ) && (
      jsonencode({ for c in one([for s in data.aws_iam_policy_document.consumer["processor"].statement : s if s.sid == "EncryptSensitiveFields"]).condition : c.variable => [c.test, c.values] }) == jsonencode({
        "kms:EncryptionContext:field" = ["StringEquals", ["email", "phone"]]
        "kms:EncryptionContext:table" = ["StringEquals", ["orders-results"]]
      })
    )
    error_message = "The results table's writer may only generate data keys with the field key (never decrypt), for this table's declared fields."
  }

  assert {
    condition = jsonencode([
      for statement in [for s in data.aws_iam_policy_document.consumer["processor"].statement : s if anytrue([for action in s.actions : startswith(action, "kms:")])] :
      statement.sid if contains(statement.resources, "arn:aws:kms:eu-west-1:111122223333:key/5555eeee-55ee-55ee-55ee-5555eeee5555")
    ]) == jsonencode(["EncryptSensitiveFields"])
    error_message = "No other statement of the writer's role may name the field key."
  }

  assert {
    condition = jsonencode(local.field_encryption_environment) == jsonencode({
      FIELD_ENCRYPTION_KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/5555eeee-55ee-55ee-55ee-5555eeee5555"
      SENSITIVE_FIELDS         = "email,phone"
    }) && jsonencode(output.sensitive_fields) == jsonencode(["email", "phone"])
    error_message = "The writer gets the sensitive fields and the field key in its environment (the consumer kit's contract)."
  }
}

run "no_sensitive_fields_no_field_key" {
  command = plan

  variables {
    sensitive_fields = []
  }

  assert {
    condition     = length(module.field_key) == 0 && output.field_encryption_key_arn == null && length(output.sensitive_fields) == 0
    error_message = "Without sensitive fields there is no field key and nothing to decrypt."
  }
}
