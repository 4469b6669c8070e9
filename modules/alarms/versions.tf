terraform {
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Nothing here needs more than long-standing CloudWatch, SNS and KMS
      # arguments; the floor follows the library-wide convention.
      version = ">= 5.73, < 7.0"
    }
  }
}
