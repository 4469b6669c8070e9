"""Code shared by every Lambda function of the pipeline (bundled into each deployment zip as
``stream_pipeline/runtime/``), and reused by the operator commands.

- ``dlq_envelope``: the dead-letter envelope every function writes and the replay CLI reads;
- ``reason_codes``: its reason codes, the built-in ones and the rules for a team's own;
- ``dlq_publisher``: SendMessageBatch of envelopes (10 per request, bounded retries);
- ``request_pool``: the bounded thread pool that runs a batch's independent AWS requests
  (BatchWriteItem, SendMessageBatch) concurrently;
- ``aws_errors``: classification of AWS SDK errors and the bounded retry policy;
- ``claim_check``: S3 claim-check of payloads too large for an SQS message;
- ``decoding``: a stream record's bytes -> a JSON document, the permanent rejections on the way
  and the id derived for an event without one (every consumer decodes the same way, so they
  accept and reject the same records; the schemas are the consumers' own);
- ``dynamodb_writer``: BatchWriteItem of a batch's items (de-duplicated, bounded retries);
- ``lambda_setup``: Powertools Logger/Tracer/Metrics, the SDK configuration and the cold-start
  dependencies holder every function's ``app`` module uses;
- ``deferred_batch``: a Powertools ``BatchProcessor`` whose side effects happen once per batch
  (batched DynamoDB writes, batched DLQ sends);
- ``dynamodb_image``: a DynamoDB stream record's NewImage -> the plain JSON document;
- ``hydration``: on-failure records (``models``), the stream reader that reads a failed batch
  back (``reader``) and the hydrator that turns it into envelopes (``hydrator``): the hydrate
  function's core, which the replay reuses.

Keep this package dependency-light: standard library, pydantic, boto3/botocore and Powertools
(all in the functions' dependencies layer), never the operator commands' dependencies
(rich, moto). Only ``lambda_setup`` and ``deferred_batch`` import Powertools, and only the
functions' ``app`` modules import them.
"""
