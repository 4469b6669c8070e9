terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Newest thing used here: tags/arn on aws_lambda_event_source_mapping
      # (5.70); module.function needs 5.26. The floor follows the
      # library-wide convention.
      version = ">= 5.73, < 7.0"
    }
  }
}
