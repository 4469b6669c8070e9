"""Hydrate: on-failure records of stream event source mappings (shard + sequence range, no
payload) -> the records re-read from the stream, as envelopes in the SQS dead-letter queue.
Entry point: ``hydrate.app.lambda_handler``."""
