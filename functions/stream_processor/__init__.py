"""Stream processor: Kinesis / DynamoDB stream records -> enriched DynamoDB items, bad records
-> SQS dead-letter queue. Entry point: ``stream_processor.app.lambda_handler``."""
