output "bucket_name" {
  description = "Name of the failure bucket (the hydrate function's PAYLOAD_BUCKET); null unless enable_s3_failure_bucket is true."
  value       = try(aws_s3_bucket.this[0].id, null)
}

output "consumer_policy_json" {
  description = "IAM policy JSON a consumer's role needs to use this module as its on-failure destination: sns:Publish on the topic, kms:GenerateDataKey and kms:Decrypt on the module's key through SNS, SQS and (with the bucket) S3 only (kms:ViaService); nothing on the bucket (an S3 destination's s3:PutObject under aws/lambda/ and s3:ListBucket come from stream-consumer's on_failure_destination_arn). Pass it to stream-consumer as additional_policy_json: its destination statement shares stream-consumer's sid, so the one stream-consumer generates from on_failure_destination_arn replaces it rather than duplicates it."
  value       = try(data.aws_iam_policy_document.consumer.json, null)
}

output "dlq_arn" {
  description = "ARN of the SQS dead-letter queue."
  value       = try(aws_sqs_queue.this.arn, null)
}

output "dlq_message_retention_seconds" {
  description = "Seconds the DLQ keeps a message (14 days, the SQS maximum): the deadline of a dead-lettered record."
  value       = aws_sqs_queue.this.message_retention_seconds
}

output "dlq_name" {
  description = "Name of the SQS dead-letter queue (<name>-dlq), e.g. for its CloudWatch alarms."
  value       = try(aws_sqs_queue.this.name, null)
}

output "dlq_url" {
  description = "URL of the SQS dead-letter queue, for the replay CLI."
  value       = try(aws_sqs_queue.this.url, null)
}

output "hydrate_function_arn" {
  description = "ARN of the hydrate function."
  value       = try(module.hydrate.function_arn, null)
}

output "hydrate_function_name" {
  description = "Name of the hydrate function (<name>-hydrate), e.g. for its CloudWatch alarms."
  value       = try(module.hydrate.function_name, null)
}

output "hydrate_role_arn" {
  description = "ARN of the hydrate function's execution role."
  value       = try(module.hydrate.role_arn, null)
}

output "hydrate_service_name" {
  description = "POWERTOOLS_SERVICE_NAME of the hydrate function, the service dimension of its metrics: what the alarms module's hydrate_service_name takes."
  value       = module.hydrate.service_name
}

output "hydrate_timeout" {
  description = "The hydrate function's timeout in seconds (for an alarm on its duration)."
  value       = var.timeout
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the topic, the DLQ, the bucket and the hydrate function: the module-created key, or kms_key_arn when supplied. Readers of the DLQ (the replay CLI) need kms:Decrypt on it."
  value       = try(local.kms_key_arn, null)
}

output "mac_key_arn" {
  description = "ARN of the KMS HMAC key (HMAC_256) the hydrate function and the consumers sign DLQ envelopes with (DLQ_MAC_KEY_ARN): the replay CLI verifies with it (--mac-key), and its role needs kms:VerifyMac on it. Only the hydrate function and consumer_role_arns may kms:GenerateMac."
  value       = aws_kms_key.mac.arn
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the hydrate function's Powertools metrics: what the alarms module's metrics_namespace takes."
  value       = local.metrics_namespace
}

output "on_failure_destination_arn" {
  description = "ARN of the SNS topic to pass as a consumer's on_failure_destination_arn: its records are hydrated from the stream into the DLQ."
  value       = try(aws_sns_topic.this.arn, null)
}

output "s3_on_failure_destination_arn" {
  description = "ARN of the failure bucket, to pass as a consumer's on_failure_destination_arn instead of the topic (the object holds the failed records' data, no hydration needed); null unless enable_s3_failure_bucket is true."
  value       = try(aws_s3_bucket.this[0].arn, null)
}

output "source_stream_arns" {
  description = "The streams the hydrate function serves (SOURCE_STREAM_ARNS): the only ones the replay CLI reads from and puts into when given these outputs."
  value       = sort(distinct(var.source_stream_arns))
}

output "topic_name" {
  description = "Name of the on-failure SNS topic (<name>-on-failure)."
  value       = try(aws_sns_topic.this.name, null)
}
