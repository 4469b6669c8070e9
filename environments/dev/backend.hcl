bucket = "example-org-terraform-state-dev"
key    = "stream-pipeline/dev/terraform.tfstate"
region = "eu-west-1"
