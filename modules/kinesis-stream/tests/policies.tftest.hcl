# Renders the real IAM policy documents and checks their content. The AWS
# provider builds aws_iam_policy_document locally, but only at apply time here
# (the documents reference resources being created), so these runs apply with
# EVERY managed resource overridden: Terraform then never calls AWS for them,
# and the dummy credentials below are never used.

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  skip_region_validation      = true
}

override_resource {
  target = module.kms_key[0].aws_kms_key.this
  values = {
    arn    = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }
}

override_resource {
  target = module.kms_key[0].aws_kms_key_policy.this
}

override_resource {
  target = aws_kinesis_stream.this
  values = {
    arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/test-stream"
  }
}

override_resource {
  target = aws_kinesis_stream_consumer.this
  values = {
    arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/test-stream/consumer/analytics:1700000000"
  }
}

override_resource {
  target = aws_kinesis_resource_policy.stream
}

override_resource {
  target = aws_kinesis_resource_policy.consumer
}

variables {
  name = "test-stream"
}

run "identity_policies_are_least_privilege" {
  command = apply

  variables {
    consumers = {
      analytics = {}
    }
  }

  assert {
    condition = jsonencode([for s in jsondecode(output.producer_policy_json).Statement : sort(flatten([s.Action]))]) == jsonencode([
      ["kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:PutRecord", "kinesis:PutRecords"],
      ["kms:GenerateDataKey"],
    ])
    error_message = "producer_policy_json must grant exactly the write and GenerateDataKey actions."
  }

  assert {
    condition = jsonencode([for s in jsondecode(output.consumer_policy_json).Statement : sort(flatten([s.Action]))]) == jsonencode([
      ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"],
      ["kms:Decrypt"],
    ])
    error_message = "consumer_policy_json must grant exactly the polling read and Decrypt actions."
  }

  assert {
    condition = jsonencode([for s in jsondecode(output.efo_consumer_policy_json).Statement : sort(flatten([s.Action]))]) == jsonencode([
      ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"],
      ["kms:Decrypt"],
      ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
    ])
    error_message = "efo_consumer_policy_json must add exactly SubscribeToShard and DescribeStreamConsumer."
  }

  assert {
    condition = alltrue(flatten([
      for doc in [output.producer_policy_json, output.consumer_policy_json, output.efo_consumer_policy_json] : [
        for s in jsondecode(doc).Statement : [
          for value in concat(flatten([s.Action]), flatten([s.Resource])) : !strcontains(value, "*")
        ]
      ]
    ]))
    error_message = "No published policy may contain a wildcard action or resource."
  }

  assert {
    condition     = jsondecode(output.producer_policy_json).Statement[0].Resource == "arn:aws:kinesis:eu-west-1:111122223333:stream/test-stream"
    error_message = "Stream actions must be scoped to the stream ARN."
  }

  assert {
    condition     = jsondecode(output.efo_consumer_policy_json).Statement[2].Resource == "arn:aws:kinesis:eu-west-1:111122223333:stream/test-stream/consumer/analytics:1700000000"
    error_message = "Consumer actions must be scoped to the consumer ARNs."
  }

  assert {
    condition     = jsondecode(output.producer_policy_json).Statement[1].Condition.StringEquals["kms:ViaService"] == "kinesis.eu-west-1.amazonaws.com"
    error_message = "Key use must be limited to calls made through Kinesis in the stream's Region."
  }
}

run "key_policy_grants_account_and_shared_principals" {
  command = apply

  variables {
    producer_principal_arns = ["444455556666"]
    consumer_principal_arns = ["arn:aws:iam::777788889999:role/poller"]
  }

  assert {
    condition     = [for s in jsondecode(module.kms_key[0].policy_json).Statement : s.Sid] == ["AccountIamDelegation", "CrossAccountProducersViaKinesis", "CrossAccountConsumersViaKinesis"]
    error_message = "The key policy must hold the account delegation and the two cross-account statements."
  }

  assert {
    condition     = jsondecode(module.kms_key[0].policy_json).Statement[0].Principal.AWS == "arn:aws:iam::111122223333:root"
    error_message = "Key administration must be delegated to the key's own account."
  }

  assert {
    condition = alltrue(flatten([
      for s in jsondecode(module.kms_key[0].policy_json).Statement : [for a in flatten([s.Action]) : !strcontains(a, "*")]
    ]))
    error_message = "The key policy must not use wildcard actions."
  }

  assert {
    condition     = jsondecode(module.kms_key[0].policy_json).Statement[2].Condition.StringEquals["kms:ViaService"] == "kinesis.eu-west-1.amazonaws.com"
    error_message = "Cross-account key use must go through Kinesis."
  }

  assert {
    condition     = [for s in jsondecode(aws_kinesis_resource_policy.stream[0].policy).Statement : s.Sid] == ["SharedProducers", "SharedConsumers"]
    error_message = "The stream resource policy must hold the producer and consumer statements."
  }

  assert {
    condition     = jsondecode(aws_kinesis_resource_policy.stream[0].policy).Statement[0].Principal.AWS == "444455556666"
    error_message = "Producers must be the principals of the producer statement."
  }
}
