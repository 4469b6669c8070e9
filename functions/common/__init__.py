"""Code shared by every Lambda function of the pipeline (bundled into each deployment zip).

- ``dlq_envelope``: the dead-letter envelope every function writes and the replay CLI reads;
- ``dlq_publisher``: SendMessageBatch of envelopes (10 per request, bounded retries);
- ``aws_errors``: classification of AWS SDK errors and the bounded retry policy;
- ``claim_check``: S3 claim-check of payloads too large for an SQS message;
- ``retail_event``: the retail event schema and the decoding of a Kinesis record into one
  (shared by every consumer of the stream, so they accept and reject the same records);
- ``lambda_setup``: Powertools Logger/Tracer/Metrics, the SDK configuration and the cold-start
  dependencies holder every function's ``app`` module uses;
- ``deferred_batch``: a Powertools ``BatchProcessor`` whose side effects happen once per batch
  (batched DynamoDB writes, batched DLQ sends).

Keep this package dependency-light: standard library, pydantic and botocore (all three are in
the Lambda runtime or the Powertools layer); only ``lambda_setup`` and ``deferred_batch`` import
Powertools, and only the functions' ``app`` modules import them.
"""
