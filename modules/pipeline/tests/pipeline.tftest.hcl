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

run "failure_bucket_is_every_consumers_claim_check" {
  command = plan

  variables {
    enable_s3_failure_bucket = true
  }

  assert {
    condition     = length(local.payload_bucket_environment) == 1 && contains(keys(local.payload_bucket_environment), "PAYLOAD_BUCKET")
    error_message = "With the failure bucket, the consumers get PAYLOAD_BUCKET: their oversized envelopes keep their payload in S3."
  }
}

run "without_failure_bucket_no_claim_check" {
  command = plan

  assert {
    condition     = length(local.payload_bucket_environment) == 0
    error_message = "Without the failure bucket there is no PAYLOAD_BUCKET."
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
