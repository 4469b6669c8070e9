output "consumer_arns" {
  description = "Map of enhanced fan-out consumer name to consumer ARN (for a Lambda event source mapping's event_source_arn)."
  value       = { for name, consumer in aws_kinesis_stream_consumer.this : name => consumer.arn }
}

output "consumer_policy_json" {
  description = "Least-privilege IAM policy JSON for a polling consumer such as a Lambda event source mapping: read actions on this stream and kms:Decrypt on its key via Kinesis."
  value       = data.aws_iam_policy_document.consumer.json
}

output "efo_consumer_policy_json" {
  description = "consumer_policy_json plus kinesis:SubscribeToShard and kinesis:DescribeStreamConsumer on this stream's registered consumers. Null when no consumers are registered."
  value       = try(data.aws_iam_policy_document.efo_consumer[0].json, null)
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the stream: the module-created key, or kms_key_arn when supplied."
  value       = local.kms_key_arn
}

output "kms_key_id" {
  description = "ID of the KMS key encrypting the stream."
  value       = local.kms_key_id
}

output "producer_policy_json" {
  description = "Least-privilege IAM policy JSON for a producer: PutRecord, PutRecords, DescribeStreamSummary and ListShards on this stream, and kms:GenerateDataKey on its key via Kinesis."
  value       = data.aws_iam_policy_document.producer.json
}

output "stream_arn" {
  description = "ARN of the Kinesis data stream."
  value       = aws_kinesis_stream.this.arn
}

output "stream_name" {
  description = "Name of the Kinesis data stream."
  value       = aws_kinesis_stream.this.name
}
