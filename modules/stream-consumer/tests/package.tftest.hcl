# Both ways to give the function its code (package): a prebuilt zip, and a source folder the
# module zips at apply with the runtime and the consumer kit (terraform_data.package). The
# invalid combinations are rejected in validation.tftest.hcl.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name    = "orders-processor"
  handler = "app.lambda_handler"
  layers  = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]

  event_source_arn           = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"
  on_failure_destination_arn = "arn:aws:sns:eu-west-1:111122223333:orders-on-failure"
}

run "prebuilt_zip_is_deployed_as_given" {
  command = plan

  variables {
    package = {
      filename         = "../../build/stream_processor.zip"
      source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    }
  }

  assert {
    condition     = length(terraform_data.package) == 0
    error_message = "A prebuilt zip must not be built again."
  }

  assert {
    condition = (
      local.package_filename == "../../build/stream_processor.zip" &&
      local.package_source_code_hash == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    )
    error_message = "The given zip and hash must be the function's."
  }
}

run "source_dir_is_hashed_at_plan_time" {
  command = plan

  variables {
    package = { source_dir = "./tests/fixtures/orders_consumer" }
  }

  assert {
    condition     = length(terraform_data.package) == 1
    error_message = "A source folder must be zipped by terraform_data.package."
  }

  # Known at plan time, from the sources alone: no zip needs to exist.
  assert {
    condition     = can(regex("^[A-Za-z0-9+/]{43}=$", local.package_source_code_hash))
    error_message = "source_code_hash must be a base64 SHA-256 computed at plan time."
  }

  assert {
    condition     = local.package_source_files == tolist(["app.py"])
    error_message = "The folder's Python files must be hashed (and nothing from hidden folders or bytecode)."
  }

  assert {
    condition = (
      contains(local.package_shared_files, "stream_pipeline/__init__.py") &&
      contains(local.package_shared_files, "stream_pipeline/kit/__init__.py") &&
      contains(local.package_shared_files, "stream_pipeline/runtime/dlq_publisher.py") &&
      contains(local.package_shared_files, "stream_pipeline/packaging.py") &&
      length([for f in local.package_shared_files : f if startswith(f, "stream_pipeline/local/")]) == 0
    )
    error_message = "The runtime, the kit and the packaging module must be hashed too, and none of the command-line code."
  }

  assert {
    condition     = startswith(local.package_filename, "${path.root}/.terraform/stream-consumer/orders-processor-") && endswith(local.package_filename, ".zip")
    error_message = "The zip must be built under the root module's .terraform/stream-consumer/, named after the function and the hash."
  }
}

run "source_dir_is_zipped_before_the_function_is_created" {
  command = apply

  variables {
    package = { source_dir = "./tests/fixtures/orders_consumer" }
  }

  assert {
    condition     = terraform_data.package[0].output == local.package_filename
    error_message = "terraform_data.package's output, which the function takes its zip from (so it waits for the build), must be the hash-named zip."
  }

  assert {
    condition     = fileexists(terraform_data.package[0].output)
    error_message = "terraform_data.package must have built the zip at apply."
  }
}
