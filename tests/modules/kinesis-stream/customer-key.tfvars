# The caller brings its own KMS key: the module must create none.
name             = "orders-cmk"
kms_key_arn      = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
retention_period = 24
