"""Event source mappings for Kinesis streams (and EFO consumers) and DynamoDB streams.

Per mapping and shard, one reader thread polls ``GetRecords`` and hands each record that
passes the filter criteria to a *lane*: ``ParallelizationFactor`` lanes per shard, a record's
lane chosen by a hash of its partition key (Kinesis) or item key (DynamoDB), so the records of
one key are always processed by one lane, in order. Each lane builds batches (``BatchSize``,
``MaximumBatchingWindowInSeconds``, the 6 MB payload limit), invokes the function and settles
the batch before taking the next one:

* success: checkpoint after the batch;
* ``ReportBatchItemFailures``: checkpoint before the lowest reported sequence number and retry
  from there (an invalid report fails the whole batch; an empty one is a success);
* function error with ``BisectBatchOnFunctionError``: split in two halves, retried in order,
  without consuming a retry ("Splitting batches doesn't consume the retry quota");
* otherwise retry, up to ``MaximumRetryAttempts`` (-1: forever);
* records older than ``MaximumRecordAgeInSeconds`` (-1: never) are discarded before any
  invocation attempt;
* discarded records: an on-failure record (``RetryAttemptsExhausted`` / ``RecordAgeExceeded``)
  to ``DestinationConfig.OnFailure`` (SNS, SQS, or S3 with the records as ``payload``).

Checkpoints live in memory (so does the emulator's data): a restarted runtime starts over from
the mappings' starting positions.

The modules, each importing only those before it: ``context`` (what a mapping runner shares
with its readers and lanes), ``lanes`` (batching), ``readers`` (polling a shard and filtering),
``settling`` (invoking a batch, retries, bisection, partial failures, on-failure records) and
``mapping`` (one runner per mapping: its readers, positions and status).
"""

from stream_pipeline.local.runtime.streams.context import RunnerContext, StreamOptions
from stream_pipeline.local.runtime.streams.mapping import MappingRunner
from stream_pipeline.local.runtime.streams.settling import first_failed_index

__all__ = ["MappingRunner", "RunnerContext", "StreamOptions", "first_failed_index"]
