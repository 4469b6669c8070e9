"""E-mail notifier: retail events of configured types (default ``purchase``) from the Kinesis
stream -> one e-mail each through SES v2, at most once per event (Powertools idempotency on
DynamoDB); records that can never be notified -> the shared SQS dead-letter queue.
Entry point: ``email_notifier.app.lambda_handler``."""
