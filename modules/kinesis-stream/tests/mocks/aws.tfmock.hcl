# What the mocked AWS provider of this module's native tests returns (mock_provider "aws" {
# source = "./tests/mocks" }): no credentials, no network.

mock_data "aws_partition" {
  defaults = {
    id                 = "aws"
    partition          = "aws"
    dns_suffix         = "amazonaws.com"
    reverse_dns_prefix = "com.amazonaws"
  }
}

# Plans leave most policy documents unknown (they depend on ARNs known only
# after apply); the default keeps any document that is read valid JSON.
mock_data "aws_iam_policy_document" {
  defaults = {
    json          = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"ReadRecords\",\"Effect\":\"Allow\",\"Action\":[\"kinesis:GetRecords\",\"kinesis:GetShardIterator\"],\"Resource\":\"arn:aws:kinesis:eu-west-1:111122223333:stream/test-stream\"}]}"
    minified_json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"ReadRecords\",\"Effect\":\"Allow\",\"Action\":[\"kinesis:GetRecords\",\"kinesis:GetShardIterator\"],\"Resource\":\"arn:aws:kinesis:eu-west-1:111122223333:stream/test-stream\"}]}"
  }
}

mock_resource "aws_kms_key" {
  defaults = {
    arn    = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }
}

mock_resource "aws_kinesis_stream" {
  defaults = {
    arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/test-stream"
  }
}

mock_resource "aws_kinesis_stream_consumer" {
  defaults = {
    arn = "arn:aws:kinesis:eu-west-1:111122223333:stream/test-stream/consumer/test:1700000000"
  }
}
