# Positive plans against a mocked AWS provider: no credentials, no network.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name = "test-stream"
}

run "on_demand_defaults" {
  command = plan

  assert {
    condition     = aws_kinesis_stream.this.stream_mode_details[0].stream_mode == "ON_DEMAND"
    error_message = "The default capacity mode must be ON_DEMAND."
  }

  assert {
    condition     = aws_kinesis_stream.this.shard_count == null
    error_message = "An on-demand stream must not set shard_count."
  }

  assert {
    condition     = aws_kinesis_stream.this.retention_period == 168
    error_message = "The default retention must be 168 hours."
  }

  assert {
    condition     = aws_kinesis_stream.this.encryption_type == "KMS"
    error_message = "The stream must always be KMS-encrypted."
  }

  assert {
    condition     = aws_kinesis_stream.this.enforce_consumer_deletion == false
    error_message = "enforce_consumer_deletion must default to false."
  }

  # The key's own settings (rotation, symmetric, key policy) are tested in modules/kms-key.
  assert {
    condition     = length(module.kms_key) == 1
    error_message = "Without kms_key_arn the module must create a key."
  }

  assert {
    condition     = length(aws_kinesis_stream_consumer.this) == 0 && output.consumer_arns == {}
    error_message = "No consumers are registered by default."
  }

  assert {
    condition     = length(aws_kinesis_resource_policy.stream) == 0 && length(aws_kinesis_resource_policy.consumer) == 0
    error_message = "No resource policy is attached unless principals are given."
  }

  assert {
    condition     = output.efo_consumer_policy_json == null
    error_message = "efo_consumer_policy_json must be null without registered consumers."
  }

  assert {
    condition     = output.stream_name == "test-stream"
    error_message = "stream_name must be the name input."
  }
}

run "caller_supplied_key" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/mrk-0123456789abcdef0123456789abcdef"
  }

  assert {
    condition     = length(module.kms_key) == 0
    error_message = "With kms_key_arn the module must not create a key or key policy."
  }

  assert {
    condition     = aws_kinesis_stream.this.encryption_type == "KMS"
    error_message = "The stream must always be KMS-encrypted."
  }

  assert {
    condition     = aws_kinesis_stream.this.kms_key_id == var.kms_key_arn
    error_message = "The stream must use the supplied key."
  }

  assert {
    condition     = output.kms_key_arn == var.kms_key_arn && output.kms_key_id == "mrk-0123456789abcdef0123456789abcdef"
    error_message = "kms_key_arn and kms_key_id outputs must describe the supplied key."
  }
}

run "provisioned_with_consumers_and_sharing" {
  command = plan

  variables {
    stream_mode               = "PROVISIONED"
    shard_count               = 4
    retention_period          = 8760
    enforce_consumer_deletion = true
    shard_level_metrics       = ["IncomingBytes", "IteratorAgeMilliseconds"]
    producer_principal_arns   = ["444455556666"]
    consumer_principal_arns   = ["arn:aws:iam::777788889999:role/poller"]
    consumers = {
      analytics = {}
      archiver = {
        principal_arns = ["arn:aws:iam::111122223333:role/archiver"]
      }
    }
    tags = {
      team = "streaming"
    }
  }

  assert {
    condition     = aws_kinesis_stream.this.stream_mode_details[0].stream_mode == "PROVISIONED" && aws_kinesis_stream.this.shard_count == 4
    error_message = "A provisioned stream must carry its shard_count."
  }

  assert {
    condition     = aws_kinesis_stream.this.shard_level_metrics == toset(["IncomingBytes", "IteratorAgeMilliseconds"])
    error_message = "shard_level_metrics must be passed through."
  }

  assert {
    condition     = aws_kinesis_stream.this.retention_period == 8760 && aws_kinesis_stream.this.enforce_consumer_deletion
    error_message = "retention_period and enforce_consumer_deletion must be passed through."
  }

  assert {
    condition     = keys(aws_kinesis_stream_consumer.this) == ["analytics", "archiver"]
    error_message = "One consumer must be registered per consumers entry."
  }

  assert {
    condition     = aws_kinesis_stream_consumer.this["archiver"].name == "archiver"
    error_message = "Consumers must be named after their map key."
  }

  assert {
    condition     = length(aws_kinesis_resource_policy.stream) == 1
    error_message = "Shared producers/consumers need a stream resource policy."
  }

  assert {
    condition     = keys(aws_kinesis_resource_policy.consumer) == ["archiver"]
    error_message = "Only consumers with principal_arns get a consumer resource policy."
  }

  assert {
    condition     = local.reader_principal_arns == tolist(["arn:aws:iam::111122223333:role/archiver", "arn:aws:iam::777788889999:role/poller"])
    error_message = "EFO principals must also be granted stream-level read access."
  }

  assert {
    condition     = length(data.aws_iam_policy_document.efo_consumer) == 1
    error_message = "An EFO consumer policy must be built when consumers exist."
  }

  assert {
    condition     = aws_kinesis_stream.this.tags == tomap({ team = "streaming" })
    error_message = "Tags must reach the stream."
  }
}

run "shared_with_caller_supplied_key" {
  command = plan

  variables {
    kms_key_arn             = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    producer_principal_arns = ["arn:aws:iam::444455556666:root"]
  }

  assert {
    condition     = length(aws_kinesis_resource_policy.stream) == 1 && length(module.kms_key) == 0
    error_message = "Sharing must attach a stream policy and leave a caller-supplied key's policy alone."
  }
}
