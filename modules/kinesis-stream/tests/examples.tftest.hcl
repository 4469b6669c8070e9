# Keeps the examples planning as the module evolves.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "minimal" {
  command = plan

  module {
    source = "./examples/minimal"
  }

  # The examples have no provider block, so hand them the mock explicitly.
  providers = {
    aws = aws
  }

  assert {
    condition     = output.stream_name == "example-minimal"
    error_message = "The minimal example must plan its stream."
  }
}

run "provisioned_with_efo" {
  command = plan

  module {
    source = "./examples/provisioned-with-efo"
  }

  providers = {
    aws = aws
  }

  variables {
    archiver_principal_arns = ["arn:aws:iam::111122223333:role/archiver"]
    producer_principal_arns = ["444455556666"]
  }

  assert {
    condition     = output.stream_name == "example-provisioned-efo"
    error_message = "The provisioned example must plan its stream."
  }

  assert {
    condition     = keys(output.consumer_arns) == ["analytics", "archiver"]
    error_message = "The provisioned example must register both consumers."
  }
}
