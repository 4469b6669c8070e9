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

mock_data "aws_region" {
  defaults = {
    id = "eu-west-1"
  }
}

mock_data "aws_iam_policy_document" {
  defaults = {
    json          = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"CloudWatchAlarmsPublish\",\"Effect\":\"Allow\",\"Action\":\"sns:Publish\",\"Resource\":\"arn:aws:sns:eu-west-1:111122223333:orders-alarms\"}]}"
    minified_json = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"CloudWatchAlarmsPublish\",\"Effect\":\"Allow\",\"Action\":\"sns:Publish\",\"Resource\":\"arn:aws:sns:eu-west-1:111122223333:orders-alarms\"}]}"
  }
}

# Known at plan time, so the runs can compare alarm actions with the topic
# and the topic's key with the module's key.
mock_resource "aws_sns_topic" {
  override_during = plan
  defaults = {
    arn = "arn:aws:sns:eu-west-1:111122223333:orders-alarms"
  }
}

mock_resource "aws_kms_key" {
  override_during = plan
  defaults = {
    arn    = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }
}

# Known at plan (override_during): the check block alarm_subscriptions_confirmed reads it, and a
# plan-mode test fails on a check it cannot evaluate.
mock_resource "aws_sns_topic_subscription" {
  override_during = plan
  defaults = {
    pending_confirmation = false
  }
}
