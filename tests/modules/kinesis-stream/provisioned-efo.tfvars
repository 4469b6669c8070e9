# Provisioned capacity, two enhanced fan-out consumers, cross-account producer and consumer.
name                = "orders-provisioned"
stream_mode         = "PROVISIONED"
shard_count         = 4
retention_period    = 72
shard_level_metrics = ["IncomingRecords", "IteratorAgeMilliseconds"]
consumers = {
  email-notifier = {}
  analytics      = {}
}
producer_principal_arns = ["arn:aws:iam::111122223333:role/producer"]
consumer_principal_arns = ["arn:aws:iam::444455556666:role/reader"]
tags = {
  team = "payments"
}
