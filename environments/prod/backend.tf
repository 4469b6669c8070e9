# State in S3 with S3-native locking (no DynamoDB lock table); bucket, key and Region come from
# backend.hcl: `terraform init -backend-config=backend.hcl` (make plan does it).
terraform {
  backend "s3" {
    use_lockfile = true
    encrypt      = true
  }
}
