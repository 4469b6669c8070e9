# What the mocked AWS provider of this module's native tests returns (mock_provider "aws" {
# source = "./tests/mocks" }). Apply gives every other computed value a fake one; the mocked
# aws_iam_policy_document renders nothing, so tests assert on the arguments passed to it.

mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}

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

mock_resource "aws_kms_key" {
  defaults = {
    arn = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-0000-0000-000000000000"
  }
}

mock_resource "aws_sns_topic" {
  defaults = {
    arn = "arn:aws:sns:eu-west-1:111122223333:orders-on-failure"
  }
}

mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:eu-west-1:111122223333:orders-dlq"
    url = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders-dlq"
  }
}

mock_resource "aws_s3_bucket" {
  defaults = {
    id  = "orders-failures-20250131000000000000000001"
    arn = "arn:aws:s3:::orders-failures-20250131000000000000000001"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/orders-hydrate"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::111122223333:role/orders-hydrate"
  }
}

mock_resource "aws_lambda_function" {
  defaults = {
    arn = "arn:aws:lambda:eu-west-1:111122223333:function:orders-hydrate"
  }
}
