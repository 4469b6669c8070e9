# Real AWS: credentials come from the caller's environment (AWS_PROFILE, SSO, a CI role).
provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      project     = var.project
      environment = var.environment
      owner       = var.owner
      managed-by  = "terraform"
    }
  }
}
