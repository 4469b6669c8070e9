# Every input off its default: the caller's key, a policy document with the
# function's permissions, no public layer, x86_64 on python3.13, named role
# and inline policy, permissions boundary, code signing.
name     = "orders-hydrate"
handler  = "hydrate.app.lambda_handler"
filename = "../../build/stream_processor.zip"
# Fixed stand-in hash (SHA-256 of empty input): see default.
source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
description      = "Re-reads failed batches from the stream"

runtime                        = "python3.13"
architectures                  = ["x86_64"]
layers                         = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3", "arn:aws:lambda:eu-west-1:111122223333:layer:orders-shared:7"]
memory_size                    = 1024
timeout                        = 120
reserved_concurrent_executions = 5
code_signing_config_arn        = "arn:aws:lambda:eu-west-1:111122223333:code-signing-config:csc-0123456789abcdefg"

kms_key_arn           = "arn:aws:kms:eu-west-1:111122223333:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
log_retention_in_days = 731
application_log_level = "DEBUG"
system_log_level      = "WARN"

role_name                     = "orders-hydrate-eu-west-1"
role_description              = "Execution role of the orders hydrate function"
role_permissions_boundary_arn = "arn:aws:iam::111122223333:policy/workload-boundary"
policy_name                   = "hydrate"
policy_json                   = <<-JSON
  {
    "Version": "2012-10-17",
    "Statement": [
      {
        "Sid": "SendToDeadLetterQueue",
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": "arn:aws:sqs:eu-west-1:111122223333:orders-dlq"
      }
    ]
  }
JSON

environment_variables = {
  POWERTOOLS_SERVICE_NAME = "hydrate"
  DLQ_URL                 = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders-dlq"
}

tags = {
  team = "orders"
}
