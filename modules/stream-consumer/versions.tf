terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Newest things used here: logging_config on aws_lambda_function (5.26)
      # and tags/arn on aws_lambda_event_source_mapping (5.70); the floor
      # follows the library-wide convention.
      version = ">= 5.73, < 6.0"
    }
  }
}
