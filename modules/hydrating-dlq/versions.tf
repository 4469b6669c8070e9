terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Newest thing used here: logging_config on aws_lambda_function (5.26,
      # through module.hydrate); the floor follows the library-wide
      # convention.
      version = ">= 5.73, < 7.0"
    }
  }
}
