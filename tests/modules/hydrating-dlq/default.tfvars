# Only the required inputs, for a Kinesis stream: module-created key, no topic
# policy (no consumer roles given), no bucket, 2 retries over at most 6 hours.
name               = "orders"
filename           = "../../build/hydrate.zip"
layers             = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]
source_stream_arns = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]
