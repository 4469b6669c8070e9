bucket = "example-org-terraform-state-staging"
key    = "stream-pipeline/staging/terraform.tfstate"
region = "eu-west-1"
