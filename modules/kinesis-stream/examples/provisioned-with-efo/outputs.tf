output "consumer_arns" {
  description = "Consumer name to consumer ARN, for Lambda event source mappings."
  value       = module.kinesis_stream.consumer_arns
}

output "efo_consumer_policy_json" {
  description = "IAM policy JSON to attach to an enhanced fan-out consumer's role."
  value       = module.kinesis_stream.efo_consumer_policy_json
}

output "kms_key_arn" {
  description = "ARN of the KMS key the module created for the stream."
  value       = module.kinesis_stream.kms_key_arn
}

output "producer_policy_json" {
  description = "IAM policy JSON to attach to a producer's role."
  value       = module.kinesis_stream.producer_policy_json
}

output "stream_arn" {
  description = "ARN of the stream."
  value       = module.kinesis_stream.stream_arn
}

output "stream_name" {
  description = "Name of the stream."
  value       = module.kinesis_stream.stream_name
}
