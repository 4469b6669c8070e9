# Bring your own consumer: every entry of consumers is wired the same way (DLQ, on-failure topic,
# failure bucket, metrics namespace, alarms), whatever its code. Each consumers validation is
# proven by tests/modules/test_validation_messages.py: one plan for every bad value, checking the
# message the user reads (a run block per rule here cost a provider start each).

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

variables {
  name                       = "orders"
  hydrate_package            = "../../build/hydrate.zip"
  dependencies_layer_package = "../../build/dependencies-python3.12-arm64.zip"
  enable_s3_failure_bucket   = true
  consumers = {
    processor = {
      package             = { filename = "../../build/stream_processor.zip" }
      handler             = "stream_processor.app.lambda_handler"
      write_results_table = true
      environment_variables = {
        POWERTOOLS_SERVICE_NAME = "stream_processor"
      }
    }
    audit = {
      package                    = { source_dir = "./examples/complete/consumers/order_audit" }
      handler                    = "app.lambda_handler"
      enhanced_fan_out           = false
      filter_criteria            = ["{\"data\":{\"eventType\":[\"purchase\"]}}"]
      batch_size                 = 25
      parallelization_factor     = 3
      tumbling_window_in_seconds = 120
      window_aware               = true
      memory_size                = 512
      timeout                    = 30
      table_name                 = "audit-trail"
      kms_key_arns               = ["arn:aws:kms:eu-west-1:111122223333:key/11111111-1111-1111-1111-111111111111"]
      environment_variables = {
        MAX_RECORD_BYTES = "262144"
      }
      iam_statements = [{
        sid       = "PublishAuditEvents"
        actions   = ["events:PutEvents"]
        resources = ["arn:aws:events:eu-west-1:111122223333:event-bus/audit"]
        conditions = [{
          test     = "StringEquals"
          variable = "events:source"
          values   = ["orders.audit"]
        }]
      }]
    }
  }
}

run "every_consumer_is_wired_to_the_pipeline" {
  command = plan

  assert {
    condition     = jsonencode(output.consumer_function_names) == jsonencode({ audit = "orders-audit", processor = "orders-processor" })
    error_message = "Each consumer must be a function <name>-<key>, keyed by its consumers key."
  }

  assert {
    condition = alltrue([
      for key in ["audit", "processor"] :
      module.consumer[key].metrics_namespace == "StreamPipeline/orders" && module.consumer[key].metrics_namespace == module.dlq.metrics_namespace
    ])
    error_message = "Every consumer must report to the pipeline's metrics namespace (the alarms' and hydrate's)."
  }

  assert {
    condition     = jsonencode(output.consumer_service_names) == jsonencode({ audit = "orders-audit", processor = "stream_processor" })
    error_message = "POWERTOOLS_SERVICE_NAME must default to the function's name unless the consumer sets it."
  }

  assert {
    condition     = jsonencode(keys(module.stream.consumer_arns)) == jsonencode(["orders-processor"])
    error_message = "Only the consumers with enhanced_fan_out get an EFO consumer of their own."
  }

  assert {
    condition = (
      local.consumers["audit"].batch_size == 25 &&
      local.consumers["audit"].parallelization_factor == 3 &&
      local.consumers["audit"].tumbling_window_in_seconds == 120 &&
      local.consumers["audit"].maximum_batching_window_in_seconds == var.maximum_batching_window_in_seconds &&
      local.consumers["audit"].maximum_record_age_in_seconds == var.maximum_record_age_in_seconds &&
      local.consumers["processor"].parallelization_factor == var.parallelization_factor
    )
    error_message = "A consumer's own batch settings must win; unset ones must follow the pipeline's variables."
  }

  assert {
    condition     = one([for s in data.aws_iam_policy_document.consumer["audit"].statement : one([for c in s.condition : c.variable]) if s.sid == "PublishAuditEvents"]) == "events:source"
    error_message = "A consumer's iam_statements (with their conditions) must be rendered into its policy."
  }

  assert {
    condition = alltrue([
      for key, sids in { audit = [], processor = ["EncryptSensitiveFields"] } : jsonencode(sort([for s in data.aws_iam_policy_document.consumer[key].statement : s.sid if s.sid != "PublishAuditEvents"])) == jsonencode(sort(concat(["PutPayloadObjects", "SignDlqEnvelopes", "UseHydratingDlqKey"], sids)))
    ])
    error_message = "Every consumer's policy must hold the hydrating DLQ's key, the envelopes' MAC key (GenerateMac) and its own claim-check prefix (the failure bucket), the results table's writers the sensitive fields' key, and nothing else of the pipeline's."
  }

  assert {
    condition = alltrue([
      for key in ["audit", "processor"] : one([
        for s in data.aws_iam_policy_document.consumer[key].statement : one(s.condition) if s.sid == "UseHydratingDlqKey"
        ]) == {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = tolist(["sns.eu-west-1.amazonaws.com", "sqs.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com"])
      }
    ])
    error_message = "The hydrating DLQ's key must be usable by a consumer only through SNS (on-failure topic), SQS (DLQ) and S3 (claim-checks)."
  }

  assert {
    condition     = local.claim_check_prefixes["audit"] == "claim-check/orders-audit/" && local.claim_check_environment["audit"]["PAYLOAD_KEY_PREFIX"] == "claim-check/orders-audit/"
    error_message = "A team's consumer claim-checks under a prefix of its own, claim-check/<function name>/."
  }

  assert {
    condition     = length(aws_dynamodb_table.this) == 1 && length(module.results_key) == 1
    error_message = "The results table must exist while a consumer writes to it."
  }

  assert {
    condition     = length(module.alarms.alarm_names) > 0 && alltrue([for id in ["consumer-errors/orders-audit", "consumer-iterator-age/orders-audit", "consumer-throttles/orders-audit", "consumer-records-sent-to-dlq/orders-audit", "consumer-errors/orders-processor", "consumer-records-sent-to-dlq/stream_processor", "efo-consumer-lag/orders-processor"] : contains(keys(module.alarms.alarm_names), id)])
    error_message = "Every consumer must get its own alarms: errors, iterator age, throttles, records sent to the DLQ, and EFO lag when it has an EFO consumer."
  }

  assert {
    condition     = !contains(keys(module.alarms.alarm_names), "efo-consumer-lag/orders-audit")
    error_message = "A polling consumer has no EFO lag alarm."
  }

  # The loss signals of issue #15 for every consumer, whatever its code: the on-failure
  # destination, the mapping's dropped records, sustained retries, the timeout, omitted payloads.
  assert {
    condition = alltrue([for id in [
      "consumer-destination-delivery-failures/orders-audit",
      "consumer-destination-delivery-failures/orders-processor",
      "consumer-destination-delivery-failures/orders-hydrate",
      "consumer-dropped-events/orders-audit",
      "consumer-dropped-events/orders-processor",
      "consumer-duration-near-timeout/orders-audit",
      "consumer-duration-near-timeout/orders-processor",
      "consumer-batch-item-failures/orders-audit",
      "consumer-batch-item-failures/stream_processor",
      "dlq-payloads-omitted/orders-audit",
      "dlq-payloads-omitted/stream_processor",
      "dlq-payloads-omitted/hydrate",
      "results-table-write-throttled",
      "dlq-retention-warning",
      "dlq-retention-critical",
      "dlq-stream-deadline-warning",
      "dlq-stream-deadline-critical",
    ] : contains(keys(module.alarms.alarm_names), id)])
    error_message = "Every consumer must get the zero-loss alarms, and the pipeline its results-table and deadline alarms."
  }
}

run "without_a_results_table_writer_no_results_table" {
  command = plan

  variables {
    consumers = {
      audit = {
        package = { source_dir = "./examples/complete/consumers/order_audit" }
        handler = "app.lambda_handler"
      }
    }
  }

  assert {
    condition     = length(aws_dynamodb_table.this) == 0 && length(module.results_key) == 0 && output.results_table_name == null && output.results_reader_policy_json == null && output.results_table_key_scheme == null
    error_message = "Without a consumer that writes to it, the pipeline must create no results table."
  }
}

