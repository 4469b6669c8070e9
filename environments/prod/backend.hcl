bucket = "example-org-terraform-state-prod"
key    = "stream-pipeline/prod/terraform.tfstate"
region = "eu-west-1"
