# Only the required inputs: module-created KMS key, the dependencies layer,
# python3.12 on arm64, a year of JSON logs, X-Ray, and a role with X-Ray,
# its log group and its key only.
name     = "orders-processor"
handler  = "stream_processor.app.lambda_handler"
filename = "../../build/stream_processor.zip"
layers   = ["arn:aws:lambda:eu-west-1:111122223333:layer:orders-dependencies:3"]
# A fixed stand-in (SHA-256 of empty input) keeps this inventory about the
# module's wiring, not the package's bytes; the example hashes the real zip.
source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
