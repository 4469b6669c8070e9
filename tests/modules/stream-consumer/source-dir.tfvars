# A team's own consumer from a source folder: the module zips it at apply with the runtime and
# the consumer kit (terraform_data.package); the plan needs no zip.
name    = "orders-enricher"
handler = "app.lambda_handler"
layers  = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]
package = { source_dir = "../../modules/stream-consumer/tests/fixtures/orders_consumer" }

event_source_arn           = "arn:aws:kinesis:eu-west-1:111122223333:stream/orders"
on_failure_destination_arn = "arn:aws:sns:eu-west-1:111122223333:orders-on-failure"
