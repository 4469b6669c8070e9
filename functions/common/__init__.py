"""Code shared by every Lambda function of the pipeline (bundled into each deployment zip).

- ``dlq_envelope``: the dead-letter envelope every function writes and the replay CLI reads;
- ``dlq_publisher``: SendMessageBatch of envelopes (10 per request, bounded retries);
- ``aws_errors``: classification of AWS SDK errors and the bounded retry policy;
- ``claim_check``: S3 claim-check of payloads too large for an SQS message.

Keep this package dependency-light: standard library, pydantic and botocore (all three are in
the Lambda runtime or the Powertools layer).
"""
