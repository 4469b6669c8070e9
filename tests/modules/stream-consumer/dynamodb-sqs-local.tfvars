# DynamoDB stream consumer with an SQS on-failure destination, configured the
# way a package that bundles its dependencies needs it: no layer, mapping
# created paused.
name    = "profile-changes"
handler = "stream_processor.app.lambda_handler"
# Fixed stand-in hash (SHA-256 of empty input): see kinesis-sns-defaults.
package = {
  filename         = "../../build/stream_processor.zip"
  source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
}
layers = []

event_source_arn           = "arn:aws:dynamodb:eu-west-1:111122223333:table/profiles/stream/2025-01-31T00:00:00.000"
on_failure_destination_arn = "arn:aws:sqs:eu-west-1:111122223333:profile-changes-on-failure"
dlq_arn                    = "arn:aws:sqs:eu-west-1:111122223333:profile-changes-dlq"
dynamodb_table_arns = [
  "arn:aws:dynamodb:eu-west-1:111122223333:table/profile-history",
  "arn:aws:dynamodb:eu-west-1:111122223333:table/profile-counters",
]

starting_position             = "LATEST"
maximum_record_age_in_seconds = 43200
enabled                       = false
