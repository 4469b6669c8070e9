output "architecture" {
  description = "Architecture the layer was built for (pass it to the functions that attach it)."
  value       = var.architecture
}

output "arn" {
  description = "ARN of the layer version, for a function's layers."
  value       = aws_lambda_layer_version.this.arn
}

output "runtime" {
  description = "Python runtime the layer was built for (pass it to the functions that attach it)."
  value       = var.runtime
}

output "version" {
  description = "Version number of the layer version."
  value       = aws_lambda_layer_version.this.version
}
