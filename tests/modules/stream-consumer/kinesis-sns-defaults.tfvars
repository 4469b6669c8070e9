# Polling consumer of a Kinesis stream with every failure-handling default:
# bisect on, 10 retries, 6-hour record age, ReportBatchItemFailures, SNS
# on-failure destination, module-created KMS key, the dependencies layer.
name    = "orders-processor"
handler = "stream_processor.app.lambda_handler"
layers  = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]
# A fixed stand-in (SHA-256 of empty input) keeps this inventory about the
# module's wiring, not the package's bytes; the examples hash the real zip.
package = {
  filename         = "../../build/stream_processor.zip"
  source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
}

event_source_arn           = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"
on_failure_destination_arn = "arn:aws:sns:eu-west-1:111122223333:orders-on-failure"
dlq_arn                    = "arn:aws:sqs:eu-west-1:111122223333:orders-dlq"
dynamodb_table_arns        = ["arn:aws:dynamodb:eu-west-1:111122223333:table/orders-results"]
# The stream's key is read only (kms:Decrypt via Kinesis); the other one encrypts the table,
# the DLQ and the topic.
source_kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/11111111-2222-3333-4444-555555555555"
kms_key_arns       = ["arn:aws:kms:eu-west-1:111122223333:key/66666666-7777-8888-9999-000000000000"]

environment_variables = {
  TABLE_NAME = "orders-results"
  DLQ_URL    = "https://sqs.eu-west-1.amazonaws.com/111122223333/orders-dlq"
}
