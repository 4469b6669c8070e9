# Every validation rule is proven to reject a bad value. The checks are
# independent, so one run sets every variable to a bad value -- each labelled
# with the rule it proves -- and lists each in expect_failures: the run fails
# when any rule stops rejecting its value ("Missing expected failure").

mock_provider "aws" {}

variables {
  name     = "orders-dependencies"
  filename = "../../build/dependencies-python3.12-arm64.zip"
  # Given, so the package need not exist for these tests.
  source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
}

run "accepts_the_defaults" {
  command = plan

  assert {
    condition = (
      aws_lambda_layer_version.this.compatible_runtimes == toset(["python3.12"]) &&
      aws_lambda_layer_version.this.compatible_architectures == toset(["arm64"]) &&
      aws_lambda_layer_version.this.layer_name == "orders-dependencies" &&
      output.runtime == "python3.12" && output.architecture == "arm64"
    )
    error_message = "The layer must default to python3.12 on arm64 and say so in its outputs."
  }
}

run "rejects_invalid_values" {
  command = plan

  variables {
    # architecture_not_arm64_or_x86_64
    architecture = "aarch64"

    # description_over_256_characters
    description = format("%0257d", 0)

    # filename_not_a_zip
    filename = "../../build/dependencies.tar.gz"

    # name_with_a_space
    name = "orders dependencies"

    # runtime_not_supported
    runtime = "python3.11"
  }

  expect_failures = [
    var.architecture,
    var.description,
    var.filename,
    var.name,
    var.runtime,
  ]
}

run "rejects_a_name_over_140_characters" {
  command = plan

  variables {
    name = format("%0141d", 0)
  }

  expect_failures = [var.name]
}
