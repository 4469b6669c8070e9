# The dependencies layer for arm64 functions on the project's Python, from the
# zip `make package` builds (build/dependencies-python3.12-arm64.zip at the
# repository root). Functions attach it with layers = [module.layer.arn] and
# take runtime and architectures from its outputs.
module "layer" {
  source = "../.."

  name     = "example-orders-dependencies"
  filename = "${path.module}/../../../../build/dependencies-python3.12-arm64.zip"
}

output "layer_arn" {
  description = "ARN of the layer version."
  value       = module.layer.arn
}
