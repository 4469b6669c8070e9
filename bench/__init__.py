"""``python -m bench``: what the pipeline's code costs, measured on this machine.

Sections (each one a module of this package; ``docs/performance.md`` explains every figure):

``stream_processor``  AWS requests per 1,000 records by API, and CPU microseconds per record
                      of the real handler with the AWS HTTP layer stubbed (botocore still
                      validates, serialises, signs and parses), next to a re-implementation of
                      the recipe's handler (``recipe_baseline``) in the same harness.
``field_encryption``  the stream processor's CPU per record with the e-mail address encrypted
                      (``SENSITIVE_FIELDS=email``: Powertools data masking over the AWS
                      Encryption SDK) next to the same records without, KMS stubbed too; KMS
                      requests per 1,000 records (the data key cache) and what is stored.
``cold_start``        import time of each function's module in a fresh interpreter, from its
                      deployment zip (``tools.package``), and the zip sizes.
``hydrate``           requests and wall time per failed batch of n records, against moto.
``producer``          PutRecords requests per 1,000 events and events/s against moto's server.
``end_to_end``        put -> stored through the local runtime (``stream_pipeline.local.runtime``).
``consumer_size``     the lines of Python and HCL a team writes for a consumer of its own
                      (``examples/orders``).
``trending``          the trending aggregator (tumbling windows): CPU per record and requests per
                      1,000 records of one window, AWS stubbed as in ``stream_processor``.
``fraud_detector``    the fraud detector's DynamoDB/SNS requests per 1,000 records (moto) and
                      CPU per record (HTTP layer stubbed), on the producer's planted fraud.

Results go to ``build/bench.json`` (machine facts included) and a Markdown table on stdout.
Nothing is hard-coded and nothing fails on a timing: targets are printed next to the
measured values with "met" / "not met".
"""
