# The local emulator (`make local-up`): moto's server on loopback with dummy credentials.
# Every service the stack uses points at it; nothing here can reach AWS.
provider "aws" {
  region                      = var.aws_region
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  skip_region_validation      = true
  s3_use_path_style           = true

  endpoints {
    cloudwatch = var.local_endpoint
    dynamodb   = var.local_endpoint
    iam        = var.local_endpoint
    kinesis    = var.local_endpoint
    kms        = var.local_endpoint
    lambda     = var.local_endpoint
    logs       = var.local_endpoint
    s3         = var.local_endpoint
    sesv2      = var.local_endpoint
    sns        = var.local_endpoint
    sqs        = var.local_endpoint
    sts        = var.local_endpoint
  }

  default_tags {
    tags = {
      project     = var.project
      environment = var.environment
      owner       = var.owner
      managed-by  = "terraform"
    }
  }
}
