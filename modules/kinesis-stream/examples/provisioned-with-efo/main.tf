# Provisioned stream with two enhanced fan-out consumers, each getting its own
# 2 MB/s per shard read pipe, and optional cross-account sharing.
module "kinesis_stream" {
  source = "../.."

  name             = "example-provisioned-efo"
  stream_mode      = "PROVISIONED"
  shard_count      = 2
  retention_period = 72

  # Per-shard iterator age shows which shard a consumer is falling behind on.
  shard_level_metrics = [
    "IncomingBytes",
    "IteratorAgeMilliseconds",
    "WriteProvisionedThroughputExceeded",
  ]

  consumers = {
    analytics = {}
    archiver = {
      principal_arns = var.archiver_principal_arns
    }
  }

  producer_principal_arns = var.producer_principal_arns

  tags = {
    example = "provisioned-with-efo"
  }
}
