# One layer version holding the functions' third-party dependencies, built by `make package`
# from requirements/lambda.txt for one Python version and one architecture.

locals {
  source_code_hash = var.source_code_hash != null ? var.source_code_hash : filebase64sha256(var.filename)
}

resource "aws_lambda_layer_version" "this" {
  layer_name  = var.name
  description = var.description

  filename         = var.filename
  source_code_hash = local.source_code_hash

  # Lambda records these for listing and console filtering; it does not stop a function of
  # another runtime or architecture from attaching the layer, so the callers match them.
  compatible_runtimes      = [var.runtime]
  compatible_architectures = [var.architecture]

  # Functions attached to a replaced version keep running on it until they are updated; the old
  # version is deleted only after the functions moved (create_before_destroy).
  skip_destroy = var.skip_destroy

  lifecycle {
    create_before_destroy = true
  }
}
