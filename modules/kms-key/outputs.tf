output "alias_arn" {
  description = "ARN of the alias, or null when none was created."
  value       = try(aws_kms_alias.this[0].arn, null)
}

output "key_arn" {
  description = "ARN of the key. Available only once the key policy is attached, so resources that use the key wait for their grants."
  value       = aws_kms_key.this.arn
  depends_on  = [aws_kms_key_policy.this]
}

output "key_id" {
  description = "ID of the key."
  value       = aws_kms_key.this.key_id
  depends_on  = [aws_kms_key_policy.this]
}

output "policy_json" {
  description = "The key policy attached to the key (for review and tests)."
  value       = data.aws_iam_policy_document.this.json
}
