terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The newest thing used here, aws_kinesis_resource_policy, needs 5.32;
      # the floor follows the library-wide convention.
      version = ">= 5.73, < 7.0"
    }
  }
}
